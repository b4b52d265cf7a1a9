package access_test

import (
	"errors"
	"testing"

	"github.com/pforte/pforte/internal/access"
	"github.com/pforte/pforte/internal/dispatch"
	"github.com/pforte/pforte/internal/field"
	"github.com/pforte/pforte/internal/store"
)

func TestRequestLetter(t *testing.T) {
	f := newFixture(t)
	verifyAddress(t, f, f.clk.now().AddDate(0, -1, 0))
	a, sink := newAccess(t, f)
	ctx := t.Context()
	req := access.Request{KVNR: "x110411675", PostalCode: "10115", BirthDate: "1970-03-14"}
	if err := a.RequestLetter(ctx, req); err != nil {
		t.Fatal(err)
	}
	letters, _ := f.st.PersonLetters(ctx, f.person.ID)
	if len(letters) != 1 || letters[0].Status != store.LetterQueued || len(sink.pdfs) != 1 {
		t.Fatalf("letters %+v, delivered %d", letters, len(sink.pdfs))
	}
	acct, err := f.st.AccountByPerson(ctx, f.person.ID)
	if err != nil || !acct.PasswordInitial {
		t.Fatalf("account after the letter: %+v, %v", acct, err)
	}

	// Wrong postal code, wrong birth date, unknown KVNR: the same answer, and
	// nothing happens.
	for _, bad := range []access.Request{
		{KVNR: "X110411675", PostalCode: "10117", BirthDate: "1970-03-14"},
		{KVNR: "X110411675", PostalCode: "10115", BirthDate: "1970-03-15"},
		{KVNR: "T555558879", PostalCode: "10115", BirthDate: "1970-03-14"},
	} {
		if err := a.RequestLetter(ctx, bad); err != nil {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	if letters, _ := f.st.PersonLetters(ctx, f.person.ID); len(letters) != 1 {
		t.Errorf("a non-matching request queued a letter: %d letters", len(letters))
	}

	// Malformed input is refused with the field named.
	for name, bad := range map[string]access.Request{
		"kvnr":        {KVNR: "A123456789", PostalCode: "10115", BirthDate: "1970-03-14"},
		"postal_code": {KVNR: "X110411675", PostalCode: "1011", BirthDate: "1970-03-14"},
		"birth_date":  {KVNR: "X110411675", PostalCode: "10115", BirthDate: "1970-03"},
	} {
		var inv *field.Error
		if err := a.RequestLetter(ctx, bad); !errors.As(err, &inv) || inv.Name != name {
			t.Errorf("%s: %v", name, err)
		}
	}

	// A second letter supersedes the first; the fourth in 30 days is refused
	// silently.
	for range 3 {
		if err := a.RequestLetter(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	letters, _ = f.st.PersonLetters(ctx, f.person.ID)
	var queued, superseded int
	for _, l := range letters {
		switch l.Status {
		case store.LetterQueued:
			queued++
		case store.LetterSuperseded:
			superseded++
		}
	}
	if len(letters) != 3 || queued != 1 || superseded != 2 {
		t.Errorf("after four requests: %d letters, %d queued, %d superseded", len(letters), queued, superseded)
	}
}

func TestRequestLetterUnverifiedAddressWaitsForReview(t *testing.T) {
	f := newFixture(t) // the fixture's address is not verified
	a, sink := newAccess(t, f)
	if err := a.RequestLetter(t.Context(), access.Request{KVNR: kvnr, PostalCode: "10115", BirthDate: "1970-03-14"}); err != nil {
		t.Fatal(err)
	}
	letters, _ := f.st.PersonLetters(t.Context(), f.person.ID)
	if len(letters) != 1 || letters[0].Status != store.LetterReview || len(sink.pdfs) != 0 {
		t.Errorf("letters %+v, delivered %d", letters, len(sink.pdfs))
	}
}

func TestChosenPasswordIsNotReplacedByALetter(t *testing.T) {
	f := newFixture(t)
	verifyAddress(t, f, f.clk.now())
	a, _ := newAccess(t, f)
	f.svc.SetInitialPassword(t.Context(), f.person.ID, initial)
	res, _ := f.login(t, initial)
	if err := f.svc.ChangePassword(t.Context(), res.Token, res.Session, initial, "Kastanienbaum im Herbstwind", ""); err != nil {
		t.Fatal(err)
	}
	if err := a.RequestLetter(t.Context(), access.Request{KVNR: kvnr, PostalCode: "10115", BirthDate: "1970-03-14"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.login(t, "Kastanienbaum im Herbstwind"); err != nil {
		t.Errorf("chosen password broken by an access request: %v", err)
	}
}

// TestActivationLetterPastTheDailyCap: with the insurer's letters of the day
// used up, the order says so (try tomorrow), not that the person ordered too
// many.
func TestActivationLetterPastTheDailyCap(t *testing.T) {
	f := newFixture(t)
	verifyAddress(t, f, f.clk.now())
	a, _ := newAccessWith(t, f, flowOptions{letters: dispatch.Config{DailyCap: 1}})
	if _, err := a.OrderActivationLetter(t.Context(), f.person.ID, "", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := a.OrderActivationLetter(t.Context(), f.person.ID, "", ""); !errors.Is(err, access.ErrLettersToday) {
		t.Errorf("letter past the daily cap = %v, want ErrLettersToday", err)
	}
}

func TestOrderActivationLetter(t *testing.T) {
	f := newFixture(t)
	verifyAddress(t, f, f.clk.now())
	a, sink := newAccess(t, f)
	for i := range 3 {
		review, err := a.OrderActivationLetter(t.Context(), f.person.ID, "", "")
		if err != nil || review {
			t.Fatalf("letter %d: review %v, %v", i+1, review, err)
		}
	}
	if _, err := a.OrderActivationLetter(t.Context(), f.person.ID, "", ""); !errors.Is(err, access.ErrLetterRefused) {
		t.Errorf("fourth letter in 30 days = %v", err)
	}
	letters, _ := f.st.PersonLetters(t.Context(), f.person.ID)
	if len(letters) != 3 || letters[0].Kind != "activation" || len(sink.pdfs) != 3 {
		t.Errorf("letters %d (%s), delivered %d", len(letters), letters[0].Kind, len(sink.pdfs))
	}
	if _, err := f.st.AccountByPerson(t.Context(), f.person.ID); err == nil {
		t.Error("an activation letter created an account password")
	}
}
