package egk

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/registry"
)

// Reason says why a card certificate is refused.
type Reason string

// The reasons, in the order Verify and CheckRevocation look.
const (
	ReasonMalformed         Reason = "malformed"          // not a DER certificate of the expected shape
	ReasonCurve             Reason = "curve"              // the key is not on brainpoolP256r1
	ReasonCriticalExtension Reason = "critical_extension" // a critical extension this package does not know
	ReasonKeyUsage          Reason = "key_usage"          // no digitalSignature
	ReasonNotCard           Reason = "not_card"           // a CA, or not a C.CH.AUT certificate (policy oid_egk_aut)
	ReasonUnknownIssuer     Reason = "unknown_issuer"     // no trust anchor issued it
	ReasonNotYetValid       Reason = "not_yet_valid"
	ReasonExpired           Reason = "expired"        // the certificate, or its issuing CA, has expired
	ReasonNoKVNR            Reason = "no_kvnr"        // no organizationalUnitName holds a valid KVNR
	ReasonRevoked           Reason = "revoked"        // the CRL lists it, or the OCSP responder says so
	ReasonStatusUnknown     Reason = "status_unknown" // the OCSP responder does not know it
)

// RefusedError is a card certificate that is refused, and why.
type RefusedError struct {
	Reason Reason
	Cause  error
}

func (e *RefusedError) Error() string {
	if e.Cause == nil {
		return "egk: card certificate refused: " + string(e.Reason)
	}
	return "egk: card certificate refused: " + string(e.Reason) + ": " + e.Cause.Error()
}

func (e *RefusedError) Unwrap() error { return e.Cause }

func refuse(r Reason, cause error) error { return &RefusedError{Reason: r, Cause: cause} }

// ErrRevocationUnavailable: the certificate's status could not be learned
// (the OCSP responder did not answer as it must, or the CRL is missing,
// invalid or past its next update). Nothing is bound; the person may try
// again later.
var ErrRevocationUnavailable = errors.New("egk: revocation status unavailable")

// Config is where the verifier's trust comes from.
type Config struct {
	// Anchors are the DER certificates of the CAs that issue the
	// insurer's cards (LoadAnchors reads them from PEM or DER files).
	Anchors [][]byte
	// OCSPURL is the OCSP responder asked for every card's status.
	OCSPURL string
	// CRLFile is a CRL of an anchor (PEM or DER); it is read at start and
	// again whenever it changes.
	CRLFile string
	// OCSPMaxAge is how old an OCSP answer's thisUpdate may be (default
	// 24 hours).
	OCSPMaxAge time.Duration
	// HTTP asks the responder (default: a client with a 5-second timeout
	// that follows no redirects).
	HTTP *http.Client
}

// Validate reports every problem of the configuration's shape.
func (c Config) Validate() []error {
	var errs []error
	if len(c.Anchors) == 0 {
		errs = append(errs, errors.New("egk.trust_anchors: at least one CA certificate"))
	}
	if c.OCSPURL == "" && c.CRLFile == "" {
		errs = append(errs, errors.New("egk.ocsp_url or egk.crl_file: the card certificates' revocation must be checked"))
	}
	if c.OCSPURL != "" && !strings.HasPrefix(c.OCSPURL, "http://") && !strings.HasPrefix(c.OCSPURL, "https://") {
		errs = append(errs, fmt.Errorf("egk.ocsp_url: %q is not an http(s) URL", c.OCSPURL))
	}
	if c.OCSPMaxAge < 0 {
		errs = append(errs, errors.New("egk.ocsp_max_age: negative"))
	}
	return errs
}

// anchor is a trusted issuing CA.
type anchor struct {
	cert *Certificate
	key  *ecdsa.PublicKey
}

// Verifier checks card certificates against the configured anchors and
// their revocation status. It is safe for concurrent use.
type Verifier struct {
	anchors []anchor
	ocspURL string
	maxAge  time.Duration
	http    *http.Client
	crl     *crlFile
	now     func() time.Time
	logger  *slog.Logger
}

// New returns a verifier. Every anchor must be a CA certificate with a
// P-256 or brainpoolP256r1 key; a configured CRL must be one of an anchor,
// validly signed and current. Every problem is reported at once.
func New(cfg Config, now func() time.Time, logger *slog.Logger) (*Verifier, error) {
	errs := cfg.Validate()
	v := &Verifier{ocspURL: cfg.OCSPURL, maxAge: cfg.OCSPMaxAge, http: cfg.HTTP, now: now, logger: logger}
	if v.maxAge == 0 {
		v.maxAge = 24 * time.Hour
	}
	if v.http == nil {
		v.http = &http.Client{Timeout: 5 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if v.logger == nil {
		v.logger = slog.New(slog.DiscardHandler)
	}
	for i, der := range cfg.Anchors {
		a, err := parseAnchor(der)
		if err != nil {
			errs = append(errs, fmt.Errorf("egk.trust_anchors[%d]: %w", i, err))
			continue
		}
		v.anchors = append(v.anchors, a)
	}
	if len(errs) == 0 && cfg.CRLFile != "" {
		v.crl = &crlFile{path: cfg.CRLFile}
		if err := v.crl.load(v, now()); err != nil {
			errs = append(errs, fmt.Errorf("egk.crl_file: %w", err))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return v, nil
}

func parseAnchor(der []byte) (anchor, error) {
	c, err := ParseCertificate(der)
	if err != nil {
		return anchor{}, err
	}
	if !c.IsCA || (c.KeyUsage != nil && !c.KeyUsage[KeyUsageCertSign]) {
		return anchor{}, errors.New("not a CA certificate (basicConstraints cA and keyUsage keyCertSign)")
	}
	key, err := ecKey(c)
	if err != nil {
		return anchor{}, err
	}
	return anchor{cert: c, key: key}, nil
}

// LoadAnchors reads CA certificates from files: each PEM file may hold
// several CERTIFICATE blocks; a file without PEM is one DER certificate.
func LoadAnchors(paths []string) ([][]byte, error) {
	var out [][]byte
	var errs []error
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ders, err := pemOrDER(b, "CERTIFICATE")
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
		}
		out = append(out, ders...)
	}
	return out, errors.Join(errs...)
}

// pemOrDER returns the blocks of typ in b, or b itself when it holds no PEM.
func pemOrDER(b []byte, typ string) ([][]byte, error) {
	if !bytes.Contains(b, []byte("-----BEGIN")) {
		return [][]byte{b}, nil
	}
	var out [][]byte
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != typ {
			return nil, fmt.Errorf("a PEM block of type %s, want %s", blk.Type, typ)
		}
		out = append(out, blk.Bytes)
	}
	if len(out) == 0 || len(bytes.TrimSpace(b)) != 0 {
		return nil, errors.New("not PEM blocks of " + typ)
	}
	return out, nil
}

// ecKey returns the certificate's key if it is on P-256 or brainpoolP256r1.
func ecKey(c *Certificate) (*ecdsa.PublicKey, error) {
	if !c.KeyAlg.Equal(OIDECPublicKey) {
		return nil, errors.New("not an elliptic curve key")
	}
	switch {
	case c.Curve.Equal(OIDBrainpoolP256r1):
		return appclient.ParseCardPublicKey(c.PublicKey)
	case c.Curve.Equal(OIDP256):
		return ecdsa.ParseUncompressedPublicKey(elliptic.P256(), c.PublicKey)
	}
	return nil, fmt.Errorf("curve %v: want brainpoolP256r1 or P-256", c.Curve)
}

// checkSignature reports whether key signed tbs with ecdsa-with-SHA256 and
// the DER signature sig.
func checkSignature(key *ecdsa.PublicKey, alg asn1.ObjectIdentifier, tbs, sig []byte) bool {
	if !alg.Equal(OIDECDSAWithSHA256) {
		return false
	}
	r, s, ok := parseECDSASignature(sig)
	if !ok {
		return false
	}
	n := key.Curve.Params().N
	if r.Sign() <= 0 || s.Sign() <= 0 || r.Cmp(n) >= 0 || s.Cmp(n) >= 0 {
		return false
	}
	h := sha256.Sum256(tbs)
	return ecdsa.Verify(key, h[:], r, s)
}

// Card is a card certificate that passed Verify.
type Card struct {
	// KVNR is the unchangeable part of the insurance number, from the
	// subject's organizationalUnitName.
	KVNR string
	// PublicKey is the authentication key, the uncompressed brainpoolP256r1
	// point that signs the pairing statement.
	PublicKey []byte
	Serial    *big.Int
	NotAfter  time.Time
	cert      *Certificate
	issuer    anchor
}

// LogValue names the certificate by serial, never the KVNR.
func (c Card) LogValue() slog.Value { return slog.StringValue("card serial " + c.Serial.Text(16)) }

// understood are the extensions this package decides on, which are the only
// ones a card certificate may mark critical (gemSpec_PKI Tab_PKI_232 marks
// keyUsage and basicConstraints critical, every other one not).
var understood = []asn1.ObjectIdentifier{OIDExtKeyUsage, OIDExtBasicConstraints, OIDExtPolicies, OIDExtExtKeyUsage}

// unknownCritical reports whether e is critical and not understood.
func unknownCritical(e Extension) bool {
	return e.Critical && !slices.ContainsFunc(understood, e.ID.Equal)
}

// Verify checks a card's C.CH.AUT certificate, in this order: its DER,
// its key's curve, its critical extensions, its key usage, that it is a
// card's authentication certificate, its issuer among the anchors and the
// issuer's signature, its validity (and the issuer's) at now, and the KVNR
// in its subject. Revocation is CheckRevocation's.
func (v *Verifier) Verify(der []byte) (Card, error) {
	c, err := ParseCertificate(der)
	if err != nil {
		return Card{}, refuse(ReasonMalformed, err)
	}
	if !c.KeyAlg.Equal(OIDECPublicKey) || !c.Curve.Equal(OIDBrainpoolP256r1) {
		return Card{}, refuse(ReasonCurve, fmt.Errorf("key %v on %v", c.KeyAlg, c.Curve))
	}
	if _, err := appclient.ParseCardPublicKey(c.PublicKey); err != nil {
		return Card{}, refuse(ReasonCurve, err)
	}
	if i := slices.IndexFunc(c.Extensions, unknownCritical); i >= 0 {
		return Card{}, refuse(ReasonCriticalExtension, fmt.Errorf("critical extension %v", c.Extensions[i].ID))
	}
	if c.KeyUsage == nil || !c.KeyUsage[KeyUsageDigitalSignature] {
		return Card{}, refuse(ReasonKeyUsage, errors.New("no digitalSignature"))
	}
	if c.IsCA || !slices.ContainsFunc(c.Policies, OIDPolicyEGKAut.Equal) {
		return Card{}, refuse(ReasonNotCard, errors.New("a CA, or no policy oid_egk_aut"))
	}
	issuer, ok := v.issuer(c)
	if !ok {
		return Card{}, refuse(ReasonUnknownIssuer, nil)
	}
	now := v.now()
	switch {
	case now.Before(c.NotBefore):
		return Card{}, refuse(ReasonNotYetValid, nil)
	case now.After(c.NotAfter):
		return Card{}, refuse(ReasonExpired, nil)
	case now.Before(issuer.cert.NotBefore) || now.After(issuer.cert.NotAfter):
		return Card{}, refuse(ReasonExpired, errors.New("the issuing CA is not valid now"))
	}
	kvnr, err := subjectKVNR(c.Subject)
	if err != nil {
		return Card{}, refuse(ReasonNoKVNR, err)
	}
	return Card{KVNR: kvnr, PublicKey: c.PublicKey, Serial: c.Serial, NotAfter: c.NotAfter, cert: c, issuer: issuer}, nil
}

// issuer finds the anchor whose subject is c's issuer (and whose key
// identifier is c's authority key identifier, when both are given) and whose
// key signed c.
func (v *Verifier) issuer(c *Certificate) (anchor, bool) {
	for _, a := range v.anchors {
		if !bytes.Equal(a.cert.RawSubject, c.RawIssuer) {
			continue
		}
		if len(c.AuthorityKeyID) > 0 && len(a.cert.SubjectKeyID) > 0 && !bytes.Equal(c.AuthorityKeyID, a.cert.SubjectKeyID) {
			continue
		}
		if checkSignature(a.key, c.SignatureAlg, c.RawTBS, c.Signature) {
			return a, true
		}
	}
	return anchor{}, false
}

// subjectKVNR returns the KVNR of a card's subject. gemSpec_PKI (Tab_PKI_232,
// C.CH.AUT) puts two organizationalUnitName attributes in the subject: the
// unchangeable part of the KVNR (10 characters) and the insurer's
// Institutionskennzeichen (9 digits), in no fixed order. The KVNR is the one
// that is a valid KVNR (letter, 8 digits, check digit); exactly one must be.
func subjectKVNR(subject []Attribute) (string, error) {
	var found []string
	for _, a := range subject {
		if a.Type.Equal(OIDOrganizationalUnit) && registry.ValidKVNR(a.Value) {
			found = append(found, a.Value)
		}
	}
	if len(found) != 1 {
		return "", fmt.Errorf("%d organizationalUnitName attributes hold a KVNR, want 1", len(found))
	}
	return found[0], nil
}

// CheckRevocation asks the configured sources whether the card's
// certificate is revoked: the CRL file first (read again if it changed),
// then the OCSP responder. It returns nil only if every configured source
// says the certificate is good, a *RefusedError (ReasonRevoked,
// ReasonStatusUnknown) if one says otherwise, and ErrRevocationUnavailable
// (wrapped) if one cannot say.
func (v *Verifier) CheckRevocation(ctx context.Context, c Card) error {
	if v.crl != nil {
		if err := v.crl.check(v, c, v.now()); err != nil {
			return err
		}
	}
	if v.ocspURL != "" {
		return v.checkOCSP(ctx, c)
	}
	return nil
}
