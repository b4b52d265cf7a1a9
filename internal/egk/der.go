package egk

import (
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Object identifiers this package reads (RFC 5280, RFC 5639, RFC 6960,
// gemSpec_PKI and gemSpec_OID).
var (
	OIDECPublicKey        = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	OIDBrainpoolP256r1    = asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 7}
	OIDP256               = asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}
	OIDECDSAWithSHA256    = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	OIDSHA256             = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	OIDCommonName         = asn1.ObjectIdentifier{2, 5, 4, 3}
	OIDOrganizationalUnit = asn1.ObjectIdentifier{2, 5, 4, 11}

	OIDExtSubjectKeyID     = asn1.ObjectIdentifier{2, 5, 29, 14}
	OIDExtKeyUsage         = asn1.ObjectIdentifier{2, 5, 29, 15}
	OIDExtSubjectAltName   = asn1.ObjectIdentifier{2, 5, 29, 17}
	OIDExtBasicConstraints = asn1.ObjectIdentifier{2, 5, 29, 19}
	OIDExtCRLNumber        = asn1.ObjectIdentifier{2, 5, 29, 20}
	OIDExtCRLReason        = asn1.ObjectIdentifier{2, 5, 29, 21}
	OIDExtPolicies         = asn1.ObjectIdentifier{2, 5, 29, 32}
	OIDExtAuthorityKeyID   = asn1.ObjectIdentifier{2, 5, 29, 35}
	OIDExtExtKeyUsage      = asn1.ObjectIdentifier{2, 5, 29, 37}
	OIDExtAuthorityInfo    = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 1}
	OIDExtAdmission        = asn1.ObjectIdentifier{1, 3, 36, 8, 3, 3}
	OIDKPOCSPSigning       = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 9}

	// OIDPolicyEGKAut is oid_egk_aut: a C.CH.AUT certificate on the card.
	OIDPolicyEGKAut = asn1.ObjectIdentifier{1, 2, 276, 0, 76, 4, 70}
)

// MaxCertificateSize bounds the DER of any certificate this package reads.
const MaxCertificateSize = 4096

// Key usage bits (RFC 5280 section 4.2.1.3), counted from the first bit of
// the BIT STRING.
const (
	KeyUsageDigitalSignature = 0
	KeyUsageCertSign         = 5
	KeyUsageCRLSign          = 6
)

// errDER is the cause of every parse failure; callers see a RefusedError
// with ReasonMalformed.
var errDER = errors.New("malformed DER")

func malformed(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errDER, fmt.Sprintf(format, a...))
}

// Attribute is one attribute of a distinguished name.
type Attribute struct {
	Type  asn1.ObjectIdentifier
	Value string // UTF8String, PrintableString or IA5String
}

// Extension is one X.509 extension, undecoded.
type Extension struct {
	ID       asn1.ObjectIdentifier
	Critical bool
	Value    []byte
}

// Certificate is an X.509 v3 certificate as this package reads it, with an
// elliptic curve key. crypto/x509 refuses brainpool keys, so this is parsed
// with cryptobyte. It is read, not trusted: Verifier decides.
type Certificate struct {
	Raw, RawTBS    []byte
	SignatureAlg   asn1.ObjectIdentifier
	Signature      []byte // the DER ECDSA-Sig-Value
	Serial         *big.Int
	RawIssuer      []byte // the issuer Name's DER, tag included
	RawSubject     []byte
	Subject        []Attribute
	NotBefore      time.Time
	NotAfter       time.Time
	KeyAlg         asn1.ObjectIdentifier
	Curve          asn1.ObjectIdentifier // the named curve of an EC key
	PublicKey      []byte                // the subjectPublicKey bits (an EC point)
	Extensions     []Extension
	KeyUsage       []bool // nil without the extension
	IsCA           bool
	HasConstraints bool
	Policies       []asn1.ObjectIdentifier
	ExtKeyUsage    []asn1.ObjectIdentifier
	SubjectKeyID   []byte
	AuthorityKeyID []byte
}

// ParseCertificate reads one DER certificate: at most MaxCertificateSize
// bytes, nothing after it, version 3, a positive serial of at most 20 bytes,
// the same signature algorithm inside and outside, times in UTCTime or
// GeneralizedTime, every extension at most once, and the extensions this
// package decides on (key usage, basic constraints, policies, extended key
// usage, key identifiers) well formed. Extensions it does not know are kept
// undecoded; whether one may be critical is Verifier's decision.
func ParseCertificate(der []byte) (*Certificate, error) {
	if len(der) > MaxCertificateSize {
		return nil, malformed("certificate is %d bytes, at most %d", len(der), MaxCertificateSize)
	}
	c := &Certificate{Raw: der}
	in := cryptobyte.String(der)
	var cert, tbs cryptobyte.String
	if !in.ReadASN1(&cert, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, malformed("not one SEQUENCE")
	}
	var rawTBS cryptobyte.String
	if !cert.ReadASN1Element(&rawTBS, cbasn1.SEQUENCE) {
		return nil, malformed("no tbsCertificate")
	}
	c.RawTBS = rawTBS
	if !rawTBS.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return nil, malformed("no tbsCertificate")
	}
	var outerAlg asn1.ObjectIdentifier
	var sig asn1.BitString
	if !readAlgorithm(&cert, &outerAlg) || !cert.ReadASN1BitString(&sig) || !cert.Empty() || sig.BitLength%8 != 0 {
		return nil, malformed("signature algorithm or value")
	}
	c.SignatureAlg, c.Signature = outerAlg, sig.Bytes

	var version cryptobyte.String
	var hasVersion bool
	if !tbs.ReadOptionalASN1(&version, &hasVersion, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return nil, malformed("version")
	}
	var v int64
	if !hasVersion || !version.ReadASN1Integer(&v) || !version.Empty() || v != 2 {
		return nil, malformed("not an X.509 v3 certificate")
	}
	var serial cryptobyte.String
	if !tbs.ReadASN1(&serial, cbasn1.INTEGER) || len(serial) == 0 || len(serial) > 21 || serial[0]&0x80 != 0 ||
		(len(serial) > 1 && serial[0] == 0 && serial[1]&0x80 == 0) {
		return nil, malformed("serial number")
	}
	c.Serial = new(big.Int).SetBytes(serial)
	if c.Serial.Sign() == 0 || c.Serial.BitLen() > 160 {
		return nil, malformed("serial number")
	}
	var innerAlg asn1.ObjectIdentifier
	if !readAlgorithm(&tbs, &innerAlg) || !innerAlg.Equal(outerAlg) {
		return nil, malformed("signature algorithms differ")
	}
	var issuer, subject cryptobyte.String
	if !tbs.ReadASN1Element(&issuer, cbasn1.SEQUENCE) {
		return nil, malformed("issuer")
	}
	c.RawIssuer = issuer
	var validity cryptobyte.String
	if !tbs.ReadASN1(&validity, cbasn1.SEQUENCE) {
		return nil, malformed("validity")
	}
	var err error
	if c.NotBefore, err = readTime(&validity); err != nil {
		return nil, err
	}
	if c.NotAfter, err = readTime(&validity); err != nil {
		return nil, err
	}
	if !validity.Empty() {
		return nil, malformed("validity")
	}
	if !tbs.ReadASN1Element(&subject, cbasn1.SEQUENCE) {
		return nil, malformed("subject")
	}
	c.RawSubject = subject
	if c.Subject, err = parseName(subject); err != nil {
		return nil, err
	}
	if _, err := parseName(issuer); err != nil {
		return nil, err
	}
	if err := c.readPublicKey(&tbs); err != nil {
		return nil, err
	}
	for _, tag := range []cbasn1.Tag{cbasn1.Tag(1).ContextSpecific(), cbasn1.Tag(2).ContextSpecific()} {
		if !tbs.SkipOptionalASN1(tag) {
			return nil, malformed("unique identifier")
		}
	}
	var exts cryptobyte.String
	var hasExts bool
	if !tbs.ReadOptionalASN1(&exts, &hasExts, cbasn1.Tag(3).Constructed().ContextSpecific()) || !tbs.Empty() {
		return nil, malformed("data after the extensions")
	}
	if hasExts {
		if c.Extensions, err = parseExtensions(exts); err != nil {
			return nil, err
		}
		if err := c.decodeExtensions(); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func readAlgorithm(s *cryptobyte.String, oid *asn1.ObjectIdentifier) bool {
	var alg cryptobyte.String
	if !s.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(oid) {
		return false
	}
	// ecdsa-with-SHA256 has no parameters; others may carry one.
	if !alg.Empty() {
		var params cryptobyte.String
		var tag cbasn1.Tag
		if !alg.ReadAnyASN1Element(&params, &tag) || !alg.Empty() {
			return false
		}
	}
	return true
}

func readTime(s *cryptobyte.String) (time.Time, error) {
	var t time.Time
	switch {
	case s.PeekASN1Tag(cbasn1.UTCTime):
		if !s.ReadASN1UTCTime(&t) {
			return t, malformed("UTCTime")
		}
	case s.PeekASN1Tag(cbasn1.GeneralizedTime):
		if !s.ReadASN1GeneralizedTime(&t) {
			return t, malformed("GeneralizedTime")
		}
	default:
		return t, malformed("time")
	}
	return t, nil
}

// parseName reads a distinguished name: a SEQUENCE of non-empty SETs of
// (type, string value).
func parseName(der []byte) ([]Attribute, error) {
	in := cryptobyte.String(der)
	var rdns cryptobyte.String
	if !in.ReadASN1(&rdns, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, malformed("name")
	}
	var out []Attribute
	for !rdns.Empty() {
		var set cryptobyte.String
		if !rdns.ReadASN1(&set, cbasn1.SET) || set.Empty() {
			return nil, malformed("relative distinguished name")
		}
		for !set.Empty() {
			var atv cryptobyte.String
			var a Attribute
			var value cryptobyte.String
			var tag cbasn1.Tag
			if !set.ReadASN1(&atv, cbasn1.SEQUENCE) || !atv.ReadASN1ObjectIdentifier(&a.Type) ||
				!atv.ReadAnyASN1(&value, &tag) || !atv.Empty() {
				return nil, malformed("name attribute")
			}
			switch tag {
			case cbasn1.UTF8String, cbasn1.PrintableString, cbasn1.IA5String:
				if !utf8.Valid(value) {
					return nil, malformed("name attribute is not UTF-8")
				}
				a.Value = string(value)
			default:
				// Other string types are kept without a value: this package
				// reads only the KVNR, which gemSpec_PKI writes as UTF8String
				// or PrintableString.
			}
			out = append(out, a)
		}
	}
	return out, nil
}

func (c *Certificate) readPublicKey(tbs *cryptobyte.String) error {
	var spki, alg cryptobyte.String
	var key asn1.BitString
	if !tbs.ReadASN1(&spki, cbasn1.SEQUENCE) || !spki.ReadASN1(&alg, cbasn1.SEQUENCE) ||
		!alg.ReadASN1ObjectIdentifier(&c.KeyAlg) {
		return malformed("subject public key info")
	}
	if c.KeyAlg.Equal(OIDECPublicKey) {
		if !alg.ReadASN1ObjectIdentifier(&c.Curve) {
			return malformed("EC key without a named curve")
		}
	} else if !alg.Empty() {
		var params cryptobyte.String
		var tag cbasn1.Tag
		if !alg.ReadAnyASN1Element(&params, &tag) {
			return malformed("key parameters")
		}
	}
	if !alg.Empty() || !spki.ReadASN1BitString(&key) || !spki.Empty() || key.BitLength%8 != 0 {
		return malformed("subject public key")
	}
	c.PublicKey = key.Bytes
	return nil
}

func parseExtensions(der cryptobyte.String) ([]Extension, error) {
	var seq cryptobyte.String
	if !der.ReadASN1(&seq, cbasn1.SEQUENCE) || !der.Empty() || seq.Empty() {
		return nil, malformed("extensions")
	}
	var out []Extension
	for !seq.Empty() {
		var ext cryptobyte.String
		var e Extension
		var value cryptobyte.String
		if !seq.ReadASN1(&ext, cbasn1.SEQUENCE) || !ext.ReadASN1ObjectIdentifier(&e.ID) {
			return nil, malformed("extension")
		}
		if ext.PeekASN1Tag(cbasn1.BOOLEAN) {
			if !ext.ReadASN1Boolean(&e.Critical) || !e.Critical { // DER: DEFAULT FALSE is left out
				return nil, malformed("extension criticality")
			}
		}
		if !ext.ReadASN1(&value, cbasn1.OCTET_STRING) || !ext.Empty() {
			return nil, malformed("extension value")
		}
		e.Value = value
		if slices.ContainsFunc(out, func(x Extension) bool { return x.ID.Equal(e.ID) }) {
			return nil, malformed("extension %v twice", e.ID)
		}
		out = append(out, e)
	}
	return out, nil
}

// decodeExtensions decodes the extensions Verifier decides on.
func (c *Certificate) decodeExtensions() error {
	for _, e := range c.Extensions {
		v := cryptobyte.String(e.Value)
		ok := true
		switch {
		case e.ID.Equal(OIDExtKeyUsage):
			var bits asn1.BitString
			ok = v.ReadASN1BitString(&bits) && v.Empty() && bits.BitLength > 0
			c.KeyUsage = make([]bool, 9)
			for i := range c.KeyUsage {
				c.KeyUsage[i] = bits.At(i) == 1
			}
		case e.ID.Equal(OIDExtBasicConstraints):
			var seq cryptobyte.String
			c.HasConstraints = true
			ok = v.ReadASN1(&seq, cbasn1.SEQUENCE) && v.Empty()
			if ok && seq.PeekASN1Tag(cbasn1.BOOLEAN) {
				ok = seq.ReadASN1Boolean(&c.IsCA) && c.IsCA
			}
			if ok && !seq.Empty() {
				var n int64
				ok = seq.ReadASN1Integer(&n) && n >= 0 && seq.Empty()
			}
		case e.ID.Equal(OIDExtPolicies):
			var seq cryptobyte.String
			ok = v.ReadASN1(&seq, cbasn1.SEQUENCE) && v.Empty()
			for ok && !seq.Empty() {
				var info cryptobyte.String
				var id asn1.ObjectIdentifier
				ok = seq.ReadASN1(&info, cbasn1.SEQUENCE) && info.ReadASN1ObjectIdentifier(&id)
				c.Policies = append(c.Policies, id)
			}
		case e.ID.Equal(OIDExtExtKeyUsage):
			var seq cryptobyte.String
			ok = v.ReadASN1(&seq, cbasn1.SEQUENCE) && v.Empty()
			for ok && !seq.Empty() {
				var id asn1.ObjectIdentifier
				ok = seq.ReadASN1ObjectIdentifier(&id)
				c.ExtKeyUsage = append(c.ExtKeyUsage, id)
			}
		case e.ID.Equal(OIDExtSubjectKeyID):
			var id cryptobyte.String
			ok = v.ReadASN1(&id, cbasn1.OCTET_STRING) && v.Empty()
			c.SubjectKeyID = id
		case e.ID.Equal(OIDExtAuthorityKeyID):
			var seq, id cryptobyte.String
			var has bool
			ok = v.ReadASN1(&seq, cbasn1.SEQUENCE) && v.Empty() &&
				seq.ReadOptionalASN1(&id, &has, cbasn1.Tag(0).ContextSpecific())
			c.AuthorityKeyID = id
		}
		if !ok {
			return malformed("extension %v", e.ID)
		}
	}
	return nil
}

// Extension returns the extension with id, or nil.
func (c *Certificate) Extension(id asn1.ObjectIdentifier) *Extension {
	for i := range c.Extensions {
		if c.Extensions[i].ID.Equal(id) {
			return &c.Extensions[i]
		}
	}
	return nil
}

// parseECDSASignature reads an ECDSA-Sig-Value: SEQUENCE { r, s INTEGER }.
func parseECDSASignature(der []byte) (r, s *big.Int, ok bool) {
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	r, s = new(big.Int), new(big.Int)
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() || !seq.ReadASN1Integer(r) || !seq.ReadASN1Integer(s) || !seq.Empty() {
		return nil, nil, false
	}
	return r, s, true
}
