//lint:file-ignore SA1019 brainpoolP256r1 exists only as an elliptic.Curve, so its keys use the big.Int API crypto/ecdsa deprecated for the NIST curves it implements itself.

// Package testca is a certificate authority for tests and the demo that
// issues what the insurer's eGK CA issues: brainpoolP256r1 card certificates
// in the shape of gemSpec_PKI's C.CH.AUT (the KVNR and the
// Institutionskennzeichen in two organizationalUnitName attributes, the
// policy oid_egk_aut), CRLs, and OCSP answers signed by the CA. Cards it
// issues become appclient.SoftwareCard files for `pforte app activate
// --egk`. It can also issue what a real CA never would (the wrong curve, an
// unknown critical extension, no digitalSignature), so tests can show that
// each is refused.
//
// Its keys are made fresh, never committed, and trusted by nothing but a
// node configured with its certificate: it is no production CA. crypto/x509
// cannot create brainpool certificates, so they are written with cryptobyte.
package testca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/ProtonMail/go-crypto/brainpool"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/egk"
)

// Name attribute types beyond egk's.
var (
	oidCountry      = asn1.ObjectIdentifier{2, 5, 4, 6}
	oidOrganization = asn1.ObjectIdentifier{2, 5, 4, 10}
	oidSurname      = asn1.ObjectIdentifier{2, 5, 4, 4}
	oidGivenName    = asn1.ObjectIdentifier{2, 5, 4, 42}
)

// CA is a test certificate authority with a brainpoolP256r1 key.
type CA struct {
	Key  *ecdsa.PrivateKey
	Cert []byte // DER

	name []byte // the subject's DER
	ski  []byte
}

// GenerateKey returns a fresh brainpoolP256r1 key.
func GenerateKey() (*ecdsa.PrivateKey, error) {
	return ecdsa.GenerateKey(brainpool.P256r1(), rand.Reader)
}

// New makes a CA named cn, valid from notBefore to notAfter.
func New(cn string, notBefore, notAfter time.Time) (*CA, error) {
	key, err := GenerateKey()
	if err != nil {
		return nil, err
	}
	return fromKey(cn, key, notBefore, notAfter)
}

func fromKey(cn string, key *ecdsa.PrivateKey, notBefore, notAfter time.Time) (*CA, error) {
	ca := &CA{Key: key, name: name([]attr{{egk.OIDCommonName, cn}, {oidOrganization, "Beispiel-Kasse NOT-VALID"}, {oidCountry, "DE"}})}
	ca.ski = keyID(&key.PublicKey)
	tbs := ca.tbs(serial(), ca.name, notBefore, notAfter, &key.PublicKey, []egk.Extension{
		ext(egk.OIDExtSubjectKeyID, false, func(b *cryptobyte.Builder) { b.AddASN1OctetString(ca.ski) }),
		keyUsage(true, egk.KeyUsageCertSign, egk.KeyUsageCRLSign),
		ext(egk.OIDExtBasicConstraints, true, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1Boolean(true) })
		}),
	})
	cert, err := ca.sign(tbs)
	if err != nil {
		return nil, err
	}
	ca.Cert = cert
	return ca, nil
}

// CertPEM is the CA certificate as PEM, for egk.trust_anchors.
func (ca *CA) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert})
}

// CardSpec says what card certificate to issue. Zero fields take a
// well-formed card's values.
type CardSpec struct {
	KVNR      string // required
	IK        string // Institutionskennzeichen, default 109500969
	GivenName string // default Erika
	Surname   string // default Mustermann
	NotBefore time.Time
	NotAfter  time.Time // default NotBefore + 5 years
	// Curve of a fresh key: nil for brainpoolP256r1 (a real card's);
	// elliptic.P256() for a certificate on the wrong curve.
	Curve elliptic.Curve
	// KeyUsage bits; nil for digitalSignature alone.
	KeyUsage []int
	// NoPolicy leaves out the policy oid_egk_aut.
	NoPolicy bool
	// Extra extensions appended as they are (an unknown critical one).
	Extra []egk.Extension
	// Serial, if not nil, is the serial number (default random).
	Serial *big.Int
}

// Card is an issued card: its key and certificate.
type Card struct {
	Key    *ecdsa.PrivateKey
	Cert   []byte
	Serial *big.Int
	ca     *CA
}

// Issue issues a card certificate after spec.
func (ca *CA) Issue(spec CardSpec) (*Card, error) {
	if spec.KVNR == "" {
		return nil, errors.New("testca: card without a KVNR")
	}
	if spec.IK == "" {
		spec.IK = "109500969"
	}
	if spec.GivenName == "" {
		spec.GivenName = "Erika"
	}
	if spec.Surname == "" {
		spec.Surname = "Mustermann"
	}
	if spec.NotBefore.IsZero() {
		spec.NotBefore = time.Now().Add(-time.Hour)
	}
	if spec.NotAfter.IsZero() {
		spec.NotAfter = spec.NotBefore.AddDate(5, 0, 0)
	}
	curve := spec.Curve
	if curve == nil {
		curve = brainpool.P256r1()
	}
	key, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		return nil, err
	}
	if spec.KeyUsage == nil {
		spec.KeyUsage = []int{egk.KeyUsageDigitalSignature}
	}
	if spec.Serial == nil {
		spec.Serial = serial()
	}
	exts := []egk.Extension{
		ext(egk.OIDExtSubjectKeyID, false, func(b *cryptobyte.Builder) { b.AddASN1OctetString(keyID(&key.PublicKey)) }),
		ext(egk.OIDExtAuthorityKeyID, false, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(ca.ski) })
			})
		}),
		keyUsage(true, spec.KeyUsage...),
		ext(egk.OIDExtBasicConstraints, true, func(b *cryptobyte.Builder) { b.AddASN1(cbasn1.SEQUENCE, func(*cryptobyte.Builder) {}) }),
	}
	if !spec.NoPolicy {
		exts = append(exts, ext(egk.OIDExtPolicies, false, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(egk.OIDPolicyEGKAut) })
			})
		}))
	}
	exts = append(exts, spec.Extra...)
	subject := name([]attr{
		{egk.OIDCommonName, spec.GivenName + " " + spec.Surname},
		{oidGivenName, spec.GivenName},
		{oidSurname, spec.Surname},
		{egk.OIDOrganizationalUnit, spec.IK},
		{egk.OIDOrganizationalUnit, spec.KVNR},
		{oidOrganization, "Beispiel-Kasse NOT-VALID"},
		{oidCountry, "DE"},
	})
	cert, err := ca.sign(ca.tbs(spec.Serial, subject, spec.NotBefore, spec.NotAfter, &key.PublicKey, exts))
	if err != nil {
		return nil, err
	}
	return &Card{Key: key, Cert: cert, Serial: spec.Serial, ca: ca}, nil
}

// Software returns the card as the app's software card (brainpoolP256r1
// keys only).
func (c *Card) Software() (*appclient.SoftwareCard, error) {
	return appclient.NewSoftwareCard(appclient.CardScalar(c.Key), c.Cert, [][]byte{c.ca.Cert})
}

// Extension makes an extension with the DER value der, for CardSpec.Extra.
func Extension(id asn1.ObjectIdentifier, critical bool, der []byte) egk.Extension {
	return egk.Extension{ID: id, Critical: critical, Value: der}
}

// CRL returns a DER CRL of the CA that revokes serials.
func (ca *CA) CRL(revoked []*big.Int, thisUpdate, nextUpdate time.Time) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(1)
		algorithm(b)
		b.AddBytes(ca.name)
		b.AddASN1UTCTime(thisUpdate.UTC())
		b.AddASN1UTCTime(nextUpdate.UTC())
		if len(revoked) > 0 {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for _, s := range revoked {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1BigInt(s)
						b.AddASN1UTCTime(thisUpdate.UTC())
					})
				}
			})
		}
	})
	tbs, err := b.Bytes()
	if err != nil {
		return nil, err
	}
	return ca.sign(tbs)
}

// CRLPEM is CRL as PEM.
func (ca *CA) CRLPEM(revoked []*big.Int, thisUpdate, nextUpdate time.Time) ([]byte, error) {
	der, err := ca.CRL(revoked, thisUpdate, nextUpdate)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), nil
}

// OCSPResponse answers the OCSP request req with status for its serial,
// signed by the CA, echoing the request's nonce; thisUpdate is now and
// nextUpdate an hour later.
func (ca *CA) OCSPResponse(req []byte, status func(serial *big.Int) egk.CertStatus, now time.Time) ([]byte, error) {
	id, nonce, err := egk.ParseOCSPRequest(req)
	if err != nil {
		return nil, err
	}
	return ca.OCSPAnswer(id, status(id.Serial), nonce, now)
}

// OCSPAnswer is the signed response for id with st.
func (ca *CA) OCSPAnswer(id egk.CertID, st egk.CertStatus, nonce []byte, now time.Time) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // ResponseData
		b.AddASN1(cbasn1.Tag(2).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { b.AddASN1OctetString(ca.ski) })
		b.AddASN1GeneralizedTime(now.UTC())
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SingleResponse
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1ObjectIdentifier(egk.OIDSHA256)
						b.AddASN1NULL()
					})
					b.AddASN1OctetString(id.NameHash)
					b.AddASN1OctetString(id.KeyHash)
					b.AddASN1BigInt(id.Serial)
				})
				switch st {
				case egk.StatusGood:
					b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(*cryptobyte.Builder) {})
				case egk.StatusRevoked:
					b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
						b.AddASN1GeneralizedTime(now.Add(-time.Hour).UTC())
					})
				default:
					b.AddASN1(cbasn1.Tag(2).ContextSpecific(), func(*cryptobyte.Builder) {})
				}
				b.AddASN1GeneralizedTime(now.UTC())
				b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
					b.AddASN1GeneralizedTime(now.Add(time.Hour).UTC())
				})
			})
		})
		if nonce != nil {
			b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1ObjectIdentifier(asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2})
						b.AddASN1(cbasn1.OCTET_STRING, func(b *cryptobyte.Builder) { b.AddASN1OctetString(nonce) })
					})
				})
			})
		}
	})
	tbs, err := b.Bytes()
	if err != nil {
		return nil, err
	}
	sig, err := ca.signature(tbs)
	if err != nil {
		return nil, err
	}
	var r cryptobyte.Builder
	r.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // OCSPResponse
		b.AddASN1Enum(0)
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 1})
				b.AddASN1(cbasn1.OCTET_STRING, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddBytes(tbs)
						algorithm(b)
						b.AddASN1BitString(sig)
					})
				})
			})
		})
	})
	return r.Bytes()
}

// tbs writes a tbsCertificate.
func (ca *CA) tbs(serial *big.Int, subject []byte, notBefore, notAfter time.Time, pub *ecdsa.PublicKey, exts []egk.Extension) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { b.AddASN1Int64(2) })
		b.AddASN1BigInt(serial)
		algorithm(b)
		b.AddBytes(ca.name)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1UTCTime(notBefore.UTC())
			b.AddASN1UTCTime(notAfter.UTC())
		})
		b.AddBytes(subject)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(egk.OIDECPublicKey)
				if pub.Curve == elliptic.P256() {
					b.AddASN1ObjectIdentifier(egk.OIDP256)
				} else {
					b.AddASN1ObjectIdentifier(egk.OIDBrainpoolP256r1)
				}
			})
			b.AddASN1BitString(point(pub))
		})
		b.AddASN1(cbasn1.Tag(3).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for _, e := range exts {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1ObjectIdentifier(e.ID)
						if e.Critical {
							b.AddASN1Boolean(true)
						}
						b.AddASN1OctetString(e.Value)
					})
				}
			})
		})
	})
	return b.BytesOrPanic()
}

// sign wraps tbs with the CA's ecdsa-with-SHA256 signature.
func (ca *CA) sign(tbs []byte) ([]byte, error) {
	sig, err := ca.signature(tbs)
	if err != nil {
		return nil, err
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(tbs)
		algorithm(b)
		b.AddASN1BitString(sig)
	})
	return b.Bytes()
}

func (ca *CA) signature(tbs []byte) ([]byte, error) {
	h := sha256.Sum256(tbs)
	r, s, err := ecdsa.Sign(rand.Reader, ca.Key, h[:])
	if err != nil {
		return nil, err
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1BigInt(r)
		b.AddASN1BigInt(s)
	})
	return b.Bytes()
}

func algorithm(b *cryptobyte.Builder) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(egk.OIDECDSAWithSHA256) })
}

type attr struct {
	typ   asn1.ObjectIdentifier
	value string
}

// name writes a distinguished name, one attribute per RDN, UTF8String
// values (PrintableString for the country).
func name(attrs []attr) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, a := range attrs {
			b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(a.typ)
					tag := cbasn1.UTF8String
					if a.typ.Equal(oidCountry) {
						tag = cbasn1.PrintableString
					}
					b.AddASN1(tag, func(b *cryptobyte.Builder) { b.AddBytes([]byte(a.value)) })
				})
			})
		}
	})
	return b.BytesOrPanic()
}

// ext builds an extension whose value fn writes.
func ext(id asn1.ObjectIdentifier, critical bool, fn func(b *cryptobyte.Builder)) egk.Extension {
	var b cryptobyte.Builder
	fn(&b)
	return egk.Extension{ID: id, Critical: critical, Value: b.BytesOrPanic()}
}

func keyUsage(critical bool, bits ...int) egk.Extension {
	return ext(egk.OIDExtKeyUsage, critical, func(b *cryptobyte.Builder) {
		v := make([]byte, 2)
		top := 0
		for _, bit := range bits {
			v[bit/8] |= 0x80 >> (bit % 8)
			top = max(top, bit)
		}
		n := top/8 + 1
		unused := 7 - top%8
		b.AddASN1(cbasn1.BIT_STRING, func(b *cryptobyte.Builder) {
			b.AddUint8(uint8(unused))
			b.AddBytes(v[:n])
		})
	})
}

func point(pub *ecdsa.PublicKey) []byte {
	p := make([]byte, 65)
	p[0] = 4
	pub.X.FillBytes(p[1:33])
	pub.Y.FillBytes(p[33:])
	return p
}

func keyID(pub *ecdsa.PublicKey) []byte {
	h := sha256.Sum256(point(pub))
	return h[:20]
}

func serial() *big.Int {
	b := make([]byte, 16)
	rand.Read(b)
	b[0] &= 0x7f
	b[0] |= 0x01
	return new(big.Int).SetBytes(b)
}

// caFile is a CA saved by Save: its key (a brainpoolP256r1 scalar) and
// certificate, base64url. It is test material: the key is no secret worth
// keeping, and nothing trusts it but a node configured with it.
type caFile struct {
	Key  string `json:"key"`
	Cert string `json:"certificate"`
}

// Save writes the CA into dir: ca.json (key and certificate, mode 0600) and
// ca.pem (the certificate, for egk.trust_anchors).
func (ca *CA) Save(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(caFile{Key: appclient.B64(appclient.CardScalar(ca.Key)), Cert: appclient.B64(ca.Cert)}, "", "  ")
	if err != nil {
		return err
	}
	if err := appclient.WritePrivateFile(filepath.Join(dir, "ca.json"), append(b, '\n')); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "ca.pem"), ca.CertPEM(), 0o644)
}

// Load reads a CA saved with Save.
func Load(dir string) (*CA, error) {
	b, err := os.ReadFile(filepath.Join(dir, "ca.json"))
	if err != nil {
		return nil, err
	}
	var f caFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("testca: %s: %w", dir, err)
	}
	d, err := appclient.UnB64(f.Key)
	if err != nil {
		return nil, fmt.Errorf("testca: key: %w", err)
	}
	cert, err := appclient.UnB64(f.Cert)
	if err != nil {
		return nil, fmt.Errorf("testca: certificate: %w", err)
	}
	parsed, err := egk.ParseCertificate(cert)
	if err != nil {
		return nil, fmt.Errorf("testca: certificate: %w", err)
	}
	key, err := appclient.NewCardKey(d)
	if err != nil {
		return nil, fmt.Errorf("testca: %w", err)
	}
	if string(point(&key.PublicKey)) != string(parsed.PublicKey) {
		return nil, errors.New("testca: the key does not belong to the certificate")
	}
	return &CA{Key: key, Cert: cert, name: parsed.RawSubject, ski: parsed.SubjectKeyID}, nil
}
