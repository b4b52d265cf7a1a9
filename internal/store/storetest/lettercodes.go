package storetest

import (
	"errors"
	"testing"

	"github.com/pforte/pforte/internal/store"
)

// testLetterWithCodes checks that a letter and the writes of its codes commit
// in one transaction: a failure in the codes' part (the account's updater, a
// code that exists) leaves no letter, no code, the earlier letter and its codes
// as they were and the day uncounted; success leaves all of it.
func testLetterWithCodes(t *testing.T, s store.Store) {
	ctx := t.Context()
	id := seedPerson(t, s, 1)
	const subject = "person:1"
	allow := func(store.LetterCounts) error { return nil }
	code := func(kind, digest string, created int) store.OneTime {
		return store.OneTime{Kind: kind, Digest: []byte(digest), Subject: subject, Data: []byte("letter"),
			CreatedAt: at(created), ExpiresAt: at(created + 60)}
	}
	initial := func(hash string) func(a *store.Account, exists bool) error {
		return func(a *store.Account, exists bool) error {
			if exists && a.PasswordHash != "" && !a.PasswordInitial {
				return errChosen
			}
			a.PasswordHash, a.PasswordInitial, a.PasswordExpiresAt = hash, true, at(60)
			return nil
		}
	}
	day := func() int64 {
		t.Helper()
		c, err := s.CounterByKey(ctx, "letters:day:2026-11-29")
		if err != nil {
			t.Fatal(err)
		}
		return c.Value
	}

	// The first letter with its activation code and initial password.
	if _, err := s.QueueLetter(ctx, letter("C1", id, "password", 0), passwordKinds, at(-100), "2026-11-29", allow,
		store.LetterCodes{Subject: subject, Void: []string{"activation", "reset"}, Put: []store.OneTime{code("activation", "a1", 0)},
			Account: initial("$argon2id$first")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OneTimeByDigest(ctx, "activation", []byte("a1"), at(1)); err != nil {
		t.Errorf("first letter's code: %v", err)
	}
	if a, err := s.AccountByPerson(ctx, id); err != nil || a.PasswordHash != "$argon2id$first" || !a.PasswordInitial {
		t.Errorf("account after the first letter = %+v, %v", a, err)
	}

	boom := errors.New("boom")
	for _, tt := range []struct {
		name  string
		codes store.LetterCodes
		want  error
	}{
		{"account updater fails", store.LetterCodes{Subject: subject, Void: []string{"activation", "reset"},
			Put:     []store.OneTime{code("activation", "a2", 1), code("reset", "r2", 1)},
			Account: func(*store.Account, bool) error { return boom }}, boom},
		{"a code exists", store.LetterCodes{Subject: subject, Void: []string{"activation", "reset"},
			Put:     []store.OneTime{code("reset", "r2", 1), code("activation", "a1", 1)},
			Account: initial("$argon2id$second")}, store.ErrConflict},
	} {
		if _, err := s.QueueLetter(ctx, letter("C2", id, "password", 1), passwordKinds, at(-100), "2026-11-29", allow,
			tt.codes); !errors.Is(err, tt.want) {
			t.Fatalf("%s: QueueLetter = %v, want %v", tt.name, err, tt.want)
		}
		if _, err := s.LetterByID(ctx, "C2"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: the letter was stored without its codes: %v", tt.name, err)
		}
		for _, c := range []struct{ kind, digest string }{{"activation", "a2"}, {"reset", "r2"}} {
			if _, err := s.OneTimeByDigest(ctx, c.kind, []byte(c.digest), at(2)); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s: code %s stored without its letter: %v", tt.name, c.digest, err)
			}
		}
		if l, err := s.LetterByID(ctx, "C1"); err != nil || l.Status != store.LetterQueued || l.Secrets.IsZero() {
			t.Errorf("%s: earlier letter = %s (secrets wiped %t), %v; want queued as it was", tt.name, l.Status, l.Secrets.IsZero(), err)
		}
		if _, err := s.OneTimeByDigest(ctx, "activation", []byte("a1"), at(2)); err != nil {
			t.Errorf("%s: the earlier letter's code was voided: %v", tt.name, err)
		}
		if a, err := s.AccountByPerson(ctx, id); err != nil || a.PasswordHash != "$argon2id$first" || a.Version != 1 {
			t.Errorf("%s: account = %+v, %v; want the first letter's", tt.name, a, err)
		}
		if n := day(); n != 1 {
			t.Errorf("%s: day counter = %d, want 1", tt.name, n)
		}
	}

	// Success: the new letter supersedes the first, voids its code, stores
	// its own and replaces the initial password, all at once.
	sup, err := s.QueueLetter(ctx, letter("C2", id, "password", 2), passwordKinds, at(-100), "2026-11-29", allow,
		store.LetterCodes{Subject: subject, Void: []string{"activation", "reset"},
			Put: []store.OneTime{code("activation", "a2", 2)}, Account: initial("$argon2id$second")})
	if err != nil || len(sup) != 1 || sup[0] != "C1" {
		t.Fatalf("second letter: superseded %v, %v; want [C1]", sup, err)
	}
	if _, err := s.LetterByID(ctx, "C2"); err != nil {
		t.Errorf("second letter: %v", err)
	}
	if _, err := s.OneTimeByDigest(ctx, "activation", []byte("a1"), at(3)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the superseded letter's code is still usable: %v", err)
	}
	if _, err := s.OneTimeByDigest(ctx, "activation", []byte("a2"), at(3)); err != nil {
		t.Errorf("second letter's code: %v", err)
	}
	a, err := s.AccountByPerson(ctx, id)
	if err != nil || a.PasswordHash != "$argon2id$second" || a.Version != 2 || !a.UpdatedAt.Equal(at(2)) {
		t.Errorf("account after the second letter = %+v, %v", a, err)
	}
	if n := day(); n != 2 {
		t.Errorf("day counter = %d, want 2", n)
	}

	// An updater that changes nothing writes nothing: no account is created
	// for a person who has none.
	other := seedPerson(t, s, 2)
	if _, err := s.QueueLetter(ctx, letter("C3", other, "activation", 3), passwordKinds, at(-100), "2026-11-29", allow,
		store.LetterCodes{Subject: "person:2", Account: func(*store.Account, bool) error { return nil }}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AccountByPerson(ctx, other); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an unchanged account was created: %v", err)
	}
	// A letter refused by its check writes none of its codes.
	limit := errors.New("limit")
	if _, err := s.QueueLetter(ctx, letter("C4", id, "password", 4), passwordKinds, at(-100), "2026-11-29",
		func(store.LetterCounts) error { return limit },
		store.LetterCodes{Subject: subject, Void: []string{"activation"}, Put: []store.OneTime{code("activation", "a4", 4)},
			Account: initial("$argon2id$refused")}); !errors.Is(err, limit) {
		t.Fatalf("refused letter = %v, want limit", err)
	}
	if _, err := s.OneTimeByDigest(ctx, "activation", []byte("a4"), at(5)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused letter's code was stored: %v", err)
	}
	if _, err := s.OneTimeByDigest(ctx, "activation", []byte("a2"), at(5)); err != nil {
		t.Errorf("a refused letter voided the valid code: %v", err)
	}
	if a, _ := s.AccountByPerson(ctx, id); a.PasswordHash != "$argon2id$second" {
		t.Errorf("a refused letter changed the account: %+v", a)
	}
}

var errChosen = errors.New("a password was chosen")
