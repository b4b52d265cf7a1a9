package egk_test

import (
	"testing"
	"time"

	"github.com/pforte/pforte/internal/egk"
	"github.com/pforte/pforte/internal/egk/testca"
)

// FuzzParseCertificate: the DER parser never panics, and what it accepts it
// accepts as exactly the bytes it was given.
func FuzzParseCertificate(f *testing.F) {
	ca, err := testca.New("Fuzz-CA", time.Now().Add(-time.Hour), time.Now().AddDate(1, 0, 0))
	if err != nil {
		f.Fatal(err)
	}
	card, err := ca.Issue(testca.CardSpec{KVNR: "X110411675"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(card.Cert)
	f.Add(ca.Cert)
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x01})
	f.Fuzz(func(t *testing.T, der []byte) {
		c, err := egk.ParseCertificate(der)
		if err != nil {
			return
		}
		if string(c.Raw) != string(der) || len(c.RawTBS) >= len(der) || c.Serial.Sign() <= 0 {
			t.Fatalf("accepted %x as %+v", der, c)
		}
	})
}

// FuzzParseCRL and the OCSP request parser never panic either.
func FuzzParseCRL(f *testing.F) {
	ca, err := testca.New("Fuzz-CA", time.Now().Add(-time.Hour), time.Now().AddDate(1, 0, 0))
	if err != nil {
		f.Fatal(err)
	}
	crl, err := ca.CRL(nil, time.Now(), time.Now().Add(time.Hour))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(crl)
	f.Fuzz(func(t *testing.T, der []byte) {
		egk.ParseCRL(der)
		egk.ParseOCSPRequest(der)
	})
}
