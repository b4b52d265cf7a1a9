package egk

import (
	"bytes"
	"encoding/asn1"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"slices"
	"sync"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// maxCRLSize bounds the CRL file read.
const maxCRLSize = 32 << 20

// CRL is a certificate revocation list (RFC 5280 section 5) as this package
// reads it.
type CRL struct {
	RawTBS     []byte
	SigAlg     asn1.ObjectIdentifier
	Signature  []byte
	RawIssuer  []byte
	ThisUpdate time.Time
	NextUpdate time.Time // zero when absent
	Revoked    []*big.Int
	Extensions []Extension
}

// ParseCRL reads one DER CRL. Entry extensions are read and, if critical
// and not the reason code, refused; CRL extensions are kept for the caller.
func ParseCRL(der []byte) (*CRL, error) {
	in := cryptobyte.String(der)
	var outer, rawTBS, tbs cryptobyte.String
	var sig asn1.BitString
	c := &CRL{}
	if !in.ReadASN1(&outer, cbasn1.SEQUENCE) || !in.Empty() || !outer.ReadASN1Element(&rawTBS, cbasn1.SEQUENCE) ||
		!readAlgorithm(&outer, &c.SigAlg) || !outer.ReadASN1BitString(&sig) || !outer.Empty() || sig.BitLength%8 != 0 {
		return nil, malformed("CRL")
	}
	c.RawTBS, c.Signature = rawTBS, sig.Bytes
	if !rawTBS.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return nil, malformed("tbsCertList")
	}
	if tbs.PeekASN1Tag(cbasn1.INTEGER) {
		var v int64
		if !tbs.ReadASN1Integer(&v) || v != 1 {
			return nil, malformed("CRL version")
		}
	}
	var alg asn1.ObjectIdentifier
	var issuer cryptobyte.String
	if !readAlgorithm(&tbs, &alg) || !alg.Equal(c.SigAlg) || !tbs.ReadASN1Element(&issuer, cbasn1.SEQUENCE) {
		return nil, malformed("CRL issuer")
	}
	c.RawIssuer = issuer
	var err error
	if c.ThisUpdate, err = readTime(&tbs); err != nil {
		return nil, err
	}
	if tbs.PeekASN1Tag(cbasn1.UTCTime) || tbs.PeekASN1Tag(cbasn1.GeneralizedTime) {
		if c.NextUpdate, err = readTime(&tbs); err != nil {
			return nil, err
		}
	}
	if tbs.PeekASN1Tag(cbasn1.SEQUENCE) {
		var list cryptobyte.String
		if !tbs.ReadASN1(&list, cbasn1.SEQUENCE) {
			return nil, malformed("revokedCertificates")
		}
		for !list.Empty() {
			var entry cryptobyte.String
			serial := new(big.Int)
			if !list.ReadASN1(&entry, cbasn1.SEQUENCE) || !entry.ReadASN1Integer(serial) {
				return nil, malformed("CRL entry")
			}
			if _, err := readTime(&entry); err != nil {
				return nil, err
			}
			if !entry.Empty() {
				exts, err := parseExtensions(entry)
				if err != nil {
					return nil, err
				}
				for _, e := range exts {
					if e.Critical && !e.ID.Equal(OIDExtCRLReason) {
						return nil, malformed("critical CRL entry extension %v", e.ID)
					}
				}
			}
			c.Revoked = append(c.Revoked, serial)
		}
	}
	var exts cryptobyte.String
	var has bool
	if !tbs.ReadOptionalASN1(&exts, &has, cbasn1.Tag(0).Constructed().ContextSpecific()) || !tbs.Empty() {
		return nil, malformed("CRL extensions")
	}
	if has {
		if c.Extensions, err = parseExtensions(exts); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// crlOK are the CRL extensions a CRL may mark critical.
var crlOK = []asn1.ObjectIdentifier{OIDExtCRLNumber, OIDExtAuthorityKeyID}

// loadedCRL is a CRL that was checked: its issuing anchor and the serials it
// revokes.
type loadedCRL struct {
	issuer  anchor
	next    time.Time
	revoked map[string]bool // serial in hex
}

// crlFile is the configured CRL file: read at start and again when its size
// or modification time changes. A file that cannot be read or checked
// leaves no CRL, and every card is then refused as unavailable (fail closed)
// until a good file is there.
type crlFile struct {
	path string

	mu      sync.Mutex
	size    int64
	mod     time.Time
	current *loadedCRL
	err     error
}

// load reads and checks the file now, whatever its stamp.
func (f *crlFile) load(v *Verifier, now time.Time) error {
	fi, err := os.Stat(f.path)
	if err != nil {
		return err
	}
	l, err := readCRL(v, f.path, now)
	f.size, f.mod, f.current, f.err = fi.Size(), fi.ModTime(), l, err
	return err
}

// check answers for c from the current CRL, reading the file again first if
// it changed.
func (f *crlFile) check(v *Verifier, c Card, now time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	fi, err := os.Stat(f.path)
	if err != nil {
		f.current, f.err = nil, err
	} else if fi.Size() != f.size || !fi.ModTime().Equal(f.mod) {
		if err := f.load(v, now); err != nil {
			v.logger.Error("egk crl file refused", slog.String("file", f.path), slog.Any("error", err))
		} else {
			v.logger.Info("egk crl file read", slog.String("file", f.path), slog.Int("revoked", len(f.current.revoked)))
		}
	}
	if f.current == nil {
		return fmt.Errorf("%w: crl: %v", ErrRevocationUnavailable, f.err)
	}
	l := f.current
	if !bytes.Equal(l.issuer.cert.RawSubject, c.issuer.cert.RawSubject) {
		return fmt.Errorf("%w: the CRL is not the one of the card's issuing CA", ErrRevocationUnavailable)
	}
	if !l.next.IsZero() && now.After(l.next) {
		return fmt.Errorf("%w: the CRL is past its next update", ErrRevocationUnavailable)
	}
	if l.revoked[c.Serial.Text(16)] {
		return refuse(ReasonRevoked, errors.New("the CRL lists the certificate"))
	}
	return nil
}

// readCRL reads the file (PEM or DER) and checks the CRL: issued and signed
// by an anchor, no unknown critical extension, thisUpdate not in the future
// and nextUpdate (if any) not passed.
func readCRL(v *Verifier, path string, now time.Time) (*loadedCRL, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) > maxCRLSize {
		return nil, fmt.Errorf("larger than %d bytes", maxCRLSize)
	}
	ders, err := pemOrDER(b, "X509 CRL")
	if err != nil {
		return nil, err
	}
	if len(ders) != 1 {
		return nil, fmt.Errorf("%d CRLs in one file, want 1", len(ders))
	}
	c, err := ParseCRL(ders[0])
	if err != nil {
		return nil, err
	}
	for _, e := range c.Extensions {
		if e.Critical && !slices.ContainsFunc(crlOK, e.ID.Equal) {
			return nil, fmt.Errorf("critical CRL extension %v", e.ID)
		}
	}
	i := slices.IndexFunc(v.anchors, func(a anchor) bool {
		return bytes.Equal(a.cert.RawSubject, c.RawIssuer) && checkSignature(a.key, c.SigAlg, c.RawTBS, c.Signature)
	})
	if i < 0 {
		return nil, errors.New("not issued and signed by a trust anchor")
	}
	if c.ThisUpdate.After(now.Add(maxSkew)) {
		return nil, errors.New("thisUpdate is in the future")
	}
	if !c.NextUpdate.IsZero() && now.After(c.NextUpdate) {
		return nil, errors.New("past its nextUpdate")
	}
	l := &loadedCRL{issuer: v.anchors[i], next: c.NextUpdate, revoked: map[string]bool{}}
	for _, s := range c.Revoked {
		l.revoked[s.Text(16)] = true
	}
	return l, nil
}
