package access_test

import (
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/pforte/pforte/internal/access"
	"github.com/pforte/pforte/internal/letter"
	"github.com/pforte/pforte/internal/proofing"
)

// TestLetterCarriesAWorkingActivationCode reads the activation link back from
// the rendered letter (package letter checks that its QR code carries the
// same) and checks that the code in it is the person's live activation
// code, usable exactly once.
func TestLetterCarriesAWorkingActivationCode(t *testing.T) {
	f := newFixture(t)
	verifyAddress(t, f, f.clk.now())
	a, sink := newAccess(t, f)
	if err := a.RequestLetter(t.Context(), me); err != nil {
		t.Fatal(err)
	}
	var pdf []byte
	for _, b := range sink.pdfs {
		pdf = b
	}
	link, err := letter.ActivationLink(pdf)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(link)
	if err != nil || u.Host != "portal.example" || !strings.HasSuffix(u.Path, "/app/activate") || len(u.Fragment) != 22 {
		t.Fatalf("the letter's link is %q", link)
	}
	ot, err := f.st.ConsumeOneTime(t.Context(), access.ActivationKind, proofing.CodeDigest(u.Fragment), f.clk.now())
	if err != nil {
		t.Fatalf("the letter's activation code is not live: %v", err)
	}
	if ot.Subject != "person:"+strconv.FormatInt(int64(f.person.ID), 10) {
		t.Errorf("activation code belongs to %q", ot.Subject)
	}
	if _, err := f.st.ConsumeOneTime(t.Context(), access.ActivationKind, proofing.CodeDigest(u.Fragment), f.clk.now()); err == nil {
		t.Error("the activation code worked twice")
	}
}
