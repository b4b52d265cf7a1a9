package egk

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"slices"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// OCSP (RFC 6960). golang.org/x/crypto/ocsp checks the responder's signature
// with crypto/x509, which refuses brainpool keys, so requests are written and
// answers read here with cryptobyte.

var (
	oidOCSPBasic = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 1}
	oidOCSPNonce = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2}
)

// maxOCSPResponse bounds an OCSP answer read from the responder.
const maxOCSPResponse = 64 << 10

// CertID identifies a certificate to an OCSP responder: SHA-256 of the
// issuer's name and key, and the serial number.
type CertID struct {
	NameHash, KeyHash []byte
	Serial            *big.Int
}

// certID is the CertID of the card c.
func certID(c Card) CertID {
	nh := sha256.Sum256(c.issuer.cert.RawSubject)
	kh := sha256.Sum256(c.issuer.cert.PublicKey)
	return CertID{NameHash: nh[:], KeyHash: kh[:], Serial: c.Serial}
}

func (id CertID) build(b *cryptobyte.Builder) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(OIDSHA256)
			b.AddASN1NULL()
		})
		b.AddASN1OctetString(id.NameHash)
		b.AddASN1OctetString(id.KeyHash)
		b.AddASN1BigInt(id.Serial)
	})
}

// readCertID reads a CertID with SHA-256 (other hash algorithms are not
// this node's requests).
func readCertID(s *cryptobyte.String) (CertID, bool) {
	var seq, alg, nh, kh cryptobyte.String
	var oid asn1.ObjectIdentifier
	id := CertID{Serial: new(big.Int)}
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) {
		return id, false
	}
	if !alg.Empty() && !alg.SkipASN1(cbasn1.NULL) {
		return id, false
	}
	if !oid.Equal(OIDSHA256) || !alg.Empty() || !seq.ReadASN1(&nh, cbasn1.OCTET_STRING) || !seq.ReadASN1(&kh, cbasn1.OCTET_STRING) ||
		!seq.ReadASN1Integer(id.Serial) || !seq.Empty() {
		return id, false
	}
	id.NameHash, id.KeyHash = nh, kh
	return id, true
}

func (id CertID) equal(o CertID) bool {
	return bytes.Equal(id.NameHash, o.NameHash) && bytes.Equal(id.KeyHash, o.KeyHash) && id.Serial.Cmp(o.Serial) == 0
}

// MarshalOCSPRequest writes an unsigned OCSP request for id with a nonce
// extension (RFC 8954).
func MarshalOCSPRequest(id CertID, nonce []byte) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // OCSPRequest
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // TBSRequest
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // requestList
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { id.build(b) }) // Request
			})
			b.AddASN1(cbasn1.Tag(2).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1ObjectIdentifier(oidOCSPNonce)
						b.AddASN1(cbasn1.OCTET_STRING, func(b *cryptobyte.Builder) { b.AddASN1OctetString(nonce) })
					})
				})
			})
		})
	})
	return b.Bytes()
}

// ParseOCSPRequest reads what MarshalOCSPRequest writes: the one CertID and
// the nonce (nil without one). It serves test responders.
func ParseOCSPRequest(der []byte) (CertID, []byte, error) {
	in := cryptobyte.String(der)
	var req, tbs, list, one cryptobyte.String
	if !in.ReadASN1(&req, cbasn1.SEQUENCE) || !in.Empty() || !req.ReadASN1(&tbs, cbasn1.SEQUENCE) ||
		!tbs.ReadASN1(&list, cbasn1.SEQUENCE) || !list.ReadASN1(&one, cbasn1.SEQUENCE) || !list.Empty() {
		return CertID{}, nil, malformed("OCSP request")
	}
	id, ok := readCertID(&one)
	if !ok || !one.Empty() {
		return CertID{}, nil, malformed("OCSP request's CertID")
	}
	var exts cryptobyte.String
	var has bool
	if !tbs.ReadOptionalASN1(&exts, &has, cbasn1.Tag(2).Constructed().ContextSpecific()) || !tbs.Empty() {
		return CertID{}, nil, malformed("OCSP request extensions")
	}
	var nonce []byte
	if has {
		list, err := parseExtensions(exts)
		if err != nil {
			return CertID{}, nil, err
		}
		if nonce, err = nonceOf(list); err != nil {
			return CertID{}, nil, err
		}
	}
	return id, nonce, nil
}

func nonceOf(exts []Extension) ([]byte, error) {
	for _, e := range exts {
		if e.ID.Equal(oidOCSPNonce) {
			v := cryptobyte.String(e.Value)
			var n cryptobyte.String
			if !v.ReadASN1(&n, cbasn1.OCTET_STRING) || !v.Empty() {
				return nil, malformed("OCSP nonce")
			}
			return n, nil
		}
	}
	return nil, nil
}

// CertStatus is an OCSP answer about one certificate.
type CertStatus int

// The statuses of RFC 6960.
const (
	StatusGood CertStatus = iota
	StatusRevoked
	StatusUnknown
)

// OCSPAnswer is what an OCSP response says of one certificate.
type OCSPAnswer struct {
	Status     CertStatus
	ThisUpdate time.Time
	NextUpdate time.Time // zero when the response has none
	Nonce      []byte    // nil when the response has none
}

// basicResponse is a parsed BasicOCSPResponse.
type basicResponse struct {
	rawTBS    []byte
	sigAlg    asn1.ObjectIdentifier
	signature []byte
	certs     [][]byte
	singles   []single
	nonce     []byte
}

type single struct {
	id     CertID
	answer OCSPAnswer
}

// parseOCSPResponse reads an OCSPResponse whose status is successful and
// whose type is id-pkix-ocsp-basic.
func parseOCSPResponse(der []byte) (*basicResponse, error) {
	in := cryptobyte.String(der)
	var resp, rb, basicDER cryptobyte.String
	var status int
	var rbWrap cryptobyte.String
	var has bool
	if !in.ReadASN1(&resp, cbasn1.SEQUENCE) || !in.Empty() || !resp.ReadASN1Enum(&status) {
		return nil, malformed("OCSP response")
	}
	if status != 0 {
		return nil, fmt.Errorf("OCSP response status %d", status)
	}
	var typ asn1.ObjectIdentifier
	if !resp.ReadOptionalASN1(&rbWrap, &has, cbasn1.Tag(0).Constructed().ContextSpecific()) || !has || !resp.Empty() ||
		!rbWrap.ReadASN1(&rb, cbasn1.SEQUENCE) || !rbWrap.Empty() || !rb.ReadASN1ObjectIdentifier(&typ) ||
		!rb.ReadASN1(&basicDER, cbasn1.OCTET_STRING) || !rb.Empty() || !typ.Equal(oidOCSPBasic) {
		return nil, malformed("OCSP response bytes")
	}
	var basic, rawTBS, tbs cryptobyte.String
	var sig asn1.BitString
	r := &basicResponse{}
	if !basicDER.ReadASN1(&basic, cbasn1.SEQUENCE) || !basicDER.Empty() || !basic.ReadASN1Element(&rawTBS, cbasn1.SEQUENCE) ||
		!readAlgorithm(&basic, &r.sigAlg) || !basic.ReadASN1BitString(&sig) || sig.BitLength%8 != 0 {
		return nil, malformed("BasicOCSPResponse")
	}
	r.rawTBS, r.signature = rawTBS, sig.Bytes
	var certsWrap, certs cryptobyte.String
	if !basic.ReadOptionalASN1(&certsWrap, &has, cbasn1.Tag(0).Constructed().ContextSpecific()) || !basic.Empty() {
		return nil, malformed("BasicOCSPResponse certs")
	}
	if has {
		if !certsWrap.ReadASN1(&certs, cbasn1.SEQUENCE) || !certsWrap.Empty() {
			return nil, malformed("BasicOCSPResponse certs")
		}
		for !certs.Empty() {
			var c cryptobyte.String
			if !certs.ReadASN1Element(&c, cbasn1.SEQUENCE) {
				return nil, malformed("BasicOCSPResponse certs")
			}
			r.certs = append(r.certs, c)
		}
	}
	if !rawTBS.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return nil, malformed("ResponseData")
	}
	if !tbs.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) { // version v1
		return nil, malformed("ResponseData version")
	}
	var responderID cryptobyte.String
	var tag cbasn1.Tag
	var produced time.Time
	var singles cryptobyte.String
	if !tbs.ReadAnyASN1Element(&responderID, &tag) || !tbs.ReadASN1GeneralizedTime(&produced) ||
		!tbs.ReadASN1(&singles, cbasn1.SEQUENCE) {
		return nil, malformed("ResponseData")
	}
	var extsWrap cryptobyte.String
	if !tbs.ReadOptionalASN1(&extsWrap, &has, cbasn1.Tag(1).Constructed().ContextSpecific()) || !tbs.Empty() {
		return nil, malformed("ResponseData extensions")
	}
	if has {
		exts, err := parseExtensions(extsWrap)
		if err != nil {
			return nil, err
		}
		for _, e := range exts {
			if e.Critical && !e.ID.Equal(oidOCSPNonce) {
				return nil, malformed("critical response extension %v", e.ID)
			}
		}
		if r.nonce, err = nonceOf(exts); err != nil {
			return nil, err
		}
	}
	for !singles.Empty() {
		s, err := readSingle(&singles)
		if err != nil {
			return nil, err
		}
		r.singles = append(r.singles, s)
	}
	return r, nil
}

func readSingle(in *cryptobyte.String) (single, error) {
	var seq cryptobyte.String
	var s single
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return s, malformed("SingleResponse")
	}
	id, ok := readCertID(&seq)
	if !ok {
		// Another hash algorithm: not an answer to this node's request.
		return s, malformed("SingleResponse CertID")
	}
	s.id = id
	var status cryptobyte.String
	var tag cbasn1.Tag
	if !seq.ReadAnyASN1Element(&status, &tag) {
		return s, malformed("CertStatus")
	}
	switch tag {
	case cbasn1.Tag(0).ContextSpecific():
		s.answer.Status = StatusGood
	case cbasn1.Tag(1).Constructed().ContextSpecific():
		s.answer.Status = StatusRevoked
	case cbasn1.Tag(2).ContextSpecific():
		s.answer.Status = StatusUnknown
	default:
		return s, malformed("CertStatus")
	}
	if !seq.ReadASN1GeneralizedTime(&s.answer.ThisUpdate) {
		return s, malformed("thisUpdate")
	}
	var next cryptobyte.String
	var has bool
	if !seq.ReadOptionalASN1(&next, &has, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return s, malformed("nextUpdate")
	}
	if has && (!next.ReadASN1GeneralizedTime(&s.answer.NextUpdate) || !next.Empty()) {
		return s, malformed("nextUpdate")
	}
	var exts cryptobyte.String
	if !seq.ReadOptionalASN1(&exts, &has, cbasn1.Tag(1).Constructed().ContextSpecific()) || !seq.Empty() {
		return s, malformed("SingleResponse extensions")
	}
	if has {
		list, err := parseExtensions(exts)
		if err != nil {
			return s, err
		}
		if i := slices.IndexFunc(list, func(e Extension) bool { return e.Critical }); i >= 0 {
			return s, malformed("critical single extension %v", list[i].ID)
		}
	}
	return s, nil
}

// signer returns the key that signed the response: the issuing CA's own,
// or a delegated responder's certificate in the response that the CA issued
// for OCSP signing (id-kp-OCSPSigning) and that is valid at now.
func (r *basicResponse) signer(issuer anchor, now time.Time) (*ecdsa.PublicKey, error) {
	if checkSignature(issuer.key, r.sigAlg, r.rawTBS, r.signature) {
		return issuer.key, nil
	}
	for _, der := range r.certs {
		c, err := ParseCertificate(der)
		if err != nil || !bytes.Equal(c.RawIssuer, issuer.cert.RawSubject) || c.IsCA ||
			!slices.ContainsFunc(c.ExtKeyUsage, OIDKPOCSPSigning.Equal) || now.Before(c.NotBefore) || now.After(c.NotAfter) ||
			!checkSignature(issuer.key, c.SignatureAlg, c.RawTBS, c.Signature) {
			continue
		}
		if slices.ContainsFunc(c.Extensions, unknownCritical) {
			continue
		}
		key, err := ecKey(c)
		if err == nil && checkSignature(key, r.sigAlg, r.rawTBS, r.signature) {
			return key, nil
		}
	}
	return nil, errors.New("the OCSP response is not signed by the issuing CA or a responder it certified")
}

// maxSkew is how far a responder's clock may run ahead of this node's.
const maxSkew = 5 * time.Minute

// checkOCSP asks the responder about c and checks the signed answer.
func (v *Verifier) checkOCSP(ctx context.Context, c Card) error {
	id := certID(c)
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return fmt.Errorf("egk: ocsp: %w", err)
	}
	req, err := MarshalOCSPRequest(id, nonce)
	if err != nil {
		return fmt.Errorf("egk: ocsp: %w", err)
	}
	unavailable := func(err error) error {
		v.logger.WarnContext(ctx, "ocsp status unavailable", slog.Any("card", c), slog.Any("error", err))
		return fmt.Errorf("%w: %v", ErrRevocationUnavailable, err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, v.ocspURL, bytes.NewReader(req))
	if err != nil {
		return unavailable(err)
	}
	hr.Header.Set("Content-Type", "application/ocsp-request")
	hr.Header.Set("Accept", "application/ocsp-response")
	resp, err := v.http.Do(hr)
	if err != nil {
		return unavailable(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxOCSPResponse+1))
	if err != nil {
		return unavailable(err)
	}
	if resp.StatusCode != http.StatusOK || len(body) > maxOCSPResponse {
		return unavailable(fmt.Errorf("responder answered %d with %d bytes", resp.StatusCode, len(body)))
	}
	ans, err := verifyOCSPResponse(body, c.issuer, id, nonce, v.now(), v.maxAge)
	if err != nil {
		return unavailable(err)
	}
	switch ans.Status {
	case StatusGood:
		return nil
	case StatusRevoked:
		return refuse(ReasonRevoked, errors.New("the OCSP responder says revoked"))
	}
	return refuse(ReasonStatusUnknown, errors.New("the OCSP responder does not know the certificate"))
}

// verifyOCSPResponse checks a response about id: signed by the issuer or its
// delegated responder, the nonce echoed when the response carries one, and
// current (thisUpdate at most maxAge old and not ahead of now by more than
// maxSkew, nextUpdate, if any, not passed).
func verifyOCSPResponse(der []byte, issuer anchor, id CertID, nonce []byte, now time.Time, maxAge time.Duration) (OCSPAnswer, error) {
	r, err := parseOCSPResponse(der)
	if err != nil {
		return OCSPAnswer{}, err
	}
	if _, err := r.signer(issuer, now); err != nil {
		return OCSPAnswer{}, err
	}
	if r.nonce != nil && !bytes.Equal(r.nonce, nonce) {
		return OCSPAnswer{}, errors.New("the OCSP response answers another request (nonce)")
	}
	for _, s := range r.singles {
		if !s.id.equal(id) {
			continue
		}
		a := s.answer
		a.Nonce = r.nonce
		switch {
		case a.ThisUpdate.After(now.Add(maxSkew)):
			return OCSPAnswer{}, errors.New("the OCSP answer is from the future")
		case now.Sub(a.ThisUpdate) > maxAge:
			return OCSPAnswer{}, errors.New("the OCSP answer is too old")
		case !a.NextUpdate.IsZero() && now.After(a.NextUpdate):
			return OCSPAnswer{}, errors.New("the OCSP answer is past its next update")
		}
		return a, nil
	}
	return OCSPAnswer{}, errors.New("the OCSP response does not answer for the certificate")
}
