package appapi_test

import (
	"bytes"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/node"
	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/store"
)

// postWithLanguage posts body to url with an Accept-Language header ("" for
// none) and returns the status.
func postWithLanguage(t *testing.T, url, token, acceptLanguage, body string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "POST", url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if acceptLanguage != "" {
		req.Header.Set("Accept-Language", acceptLanguage)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// lastLetter waits for the node's n-th letter and returns its stored
// language and its PDF.
func lastLetter(t *testing.T, n *nodetest.Node, count int) (string, []byte) {
	t.Helper()
	paths := n.Letters.Wait(t, count)
	path := paths[len(paths)-1]
	pdf, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	id := strings.TrimSuffix(path[strings.LastIndexByte(path, '/')+1:], ".pdf")
	l, err := n.Store.LetterByID(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return l.Language, pdf
}

// TestLetterLanguageFromAcceptLanguage: the access request, the password
// reset and the activation letter take the language of the app's request
// (Accept-Language); the person's choice wins over it.
func TestLetterLanguageFromAcceptLanguage(t *testing.T) {
	n := nodetest.Start(t, nodetest.Options{Config: func(c *node.Config) {
		c.Access.MinTime = 10 * time.Millisecond
		c.Letters.PersonLimit = 100
	}})
	p := n.Person(t, store.Person{KVNR: kvnr, FamilyName: "Müller", GivenNames: "Jürgen", BirthDate: "1970-03-14",
		Street: "Hauptstraße", HouseNumber: "1", PostalCode: "10115", City: "Berlin",
		AddressVerifiedAt: time.Now(), AddressVerifiedBy: "melderegister"})
	access := `{"kvnr":"` + kvnr + `","postal_code":"10115","birth_date":"1970-03-14","method":"letter"}`
	letters := 0
	check := func(what, path, token, header, wantLang string) {
		t.Helper()
		if code := postWithLanguage(t, n.URL+path, token, header, access); code != http.StatusAccepted {
			t.Fatalf("%s: status %d", what, code)
		}
		letters++
		stored, pdf := lastLetter(t, n, letters)
		pdfLang := map[string]string{"de": "/Lang (de-DE)", "en": "/Lang (en-GB)"}[wantLang]
		if stored != wantLang || !bytes.Contains(pdf, []byte(pdfLang)) {
			t.Errorf("%s with Accept-Language %q: letter in %q, want %q (%s)", what, header, stored, wantLang, pdfLang)
		}
	}
	check("access request", "/api/v1/access-requests", "", "en-GB,en;q=0.9", "en")
	check("access request", "/api/v1/access-requests", "", "de-DE,de;q=0.9,en;q=0.8", "de")
	check("access request", "/api/v1/access-requests", "", "", "de")

	// With a chosen password the reset sends a reset letter.
	n.GivePassword(t, p, strong)
	check("password reset", "/api/v1/password-resets", "", "en", "en")

	// A logged-in person without a phone orders an activation letter.
	r := login(t, n.URL, strong)
	if r.status != http.StatusCreated {
		t.Fatalf("login = %d %s", r.status, r.raw)
	}
	tok := r.body["session_token"].(string)
	access = `{}`
	check("activation letter", "/api/v1/activation-letters", tok, "en-US", "en")

	// The person's choice wins over the request's language.
	if _, err := n.Store.UpdateAccount(t.Context(), p.ID, time.Now(), func(a *store.Account, _ bool) error {
		a.Language = "de"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	check("activation letter", "/api/v1/activation-letters", tok, "en-US", "de")
}
