package storetest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pforte/pforte/internal/store"
)

// seedPerson stores person(i) and returns its id.
func seedPerson(t *testing.T, s store.Store, i int) store.PersonID {
	t.Helper()
	if _, err := s.UpsertPersons(t.Context(), []store.Person{person(i)}); err != nil {
		t.Fatal(err)
	}
	p, err := s.PersonByKVNR(t.Context(), person(i).KVNR)
	if err != nil {
		t.Fatal(err)
	}
	return p.ID
}

func testAccounts(t *testing.T, s store.Store) {
	ctx := t.Context()
	id := seedPerson(t, s, 1)
	if _, err := s.AccountByPerson(ctx, id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("AccountByPerson(no account) = %v, want ErrNotFound", err)
	}
	if _, err := s.UpdateAccount(ctx, 4711, at(0), func(*store.Account, bool) error { return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateAccount(unknown person) = %v, want ErrNotFound", err)
	}
	boom := errors.New("boom")
	if _, err := s.UpdateAccount(ctx, id, at(0), func(a *store.Account, _ bool) error {
		a.PasswordHash = "x"
		return boom
	}); !errors.Is(err, boom) {
		t.Errorf("failing fn = %v", err)
	}
	if _, err := s.AccountByPerson(ctx, id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a failed update created the account: %v", err)
	}
	created, err := s.UpdateAccount(ctx, id, at(1), func(a *store.Account, exists bool) error {
		if exists {
			t.Error("exists = true for a new account")
		}
		a.PasswordHash, a.PasswordInitial, a.PasswordExpiresAt = "$argon2id$initial", true, at(60)
		a.Language = "en"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := store.Account{PersonID: id, PasswordHash: "$argon2id$initial", PasswordInitial: true, PasswordExpiresAt: at(60),
		Language: "en", Version: 1, CreatedAt: at(1), UpdatedAt: at(1)}
	if diff := cmp.Diff(want, created); diff != "" {
		t.Errorf("created (-want +got):\n%s", diff)
	}
	got, err := s.AccountByPerson(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stored (-want +got):\n%s", diff)
	}
	updated, err := s.UpdateAccount(ctx, id, at(2), func(a *store.Account, exists bool) error {
		if !exists {
			t.Error("exists = false for an existing account")
		}
		a.PasswordHash, a.PasswordInitial, a.PasswordExpiresAt, a.PasswordChangedAt = "$argon2id$chosen", false, time.Time{}, at(2)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if updated.Version != 2 || updated.PasswordInitial || !updated.CreatedAt.Equal(at(1)) || !updated.UpdatedAt.Equal(at(2)) {
		t.Errorf("updated = %+v", updated)
	}
}

func testAccountsParallelCreate(t *testing.T, s store.Store) {
	id := seedPerson(t, s, 1)
	const n = 20
	var wg sync.WaitGroup
	var created atomic.Int64
	for range n {
		wg.Go(func() {
			_, err := s.UpdateAccount(t.Context(), id, at(0), func(a *store.Account, exists bool) error {
				if !exists {
					created.Add(1)
				}
				a.PasswordHash += "x"
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	a, err := s.AccountByPerson(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.PasswordHash) != n || a.Version != n {
		t.Errorf("after %d parallel updates: hash len %d, version %d", n, len(a.PasswordHash), a.Version)
	}
	if created.Load() < 1 {
		t.Errorf("no updater saw a new account")
	}
}

func session(id store.PersonID, hash string, created int) store.Session {
	return store.Session{
		TokenHash: []byte(hash), PersonID: id, Kind: "browser", Level: "low", AMR: []string{"pwd"},
		Origin: "letter", OriginAt: at(created), MustChangePassword: true, ClientIP: "192.0.2.7", UserAgent: "Test/1.0",
		CreatedAt: at(created), LastSeenAt: at(created), IdleExpiresAt: at(created + 30), ExpiresAt: at(created + 720),
	}
}

func testSessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	id := seedPerson(t, s, 1)
	other := seedPerson(t, s, 2)
	a := session(id, "hash-a", 0)
	if err := s.CreateSession(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(ctx, a); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate CreateSession = %v, want ErrConflict", err)
	}
	got, err := s.SessionByHash(ctx, []byte("hash-a"), at(1))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a, got); diff != "" {
		t.Errorf("SessionByHash (-want +got):\n%s", diff)
	}
	if _, err := s.SessionByHash(ctx, []byte("hash-a"), at(30)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("idle-expired session = %v, want ErrNotFound", err)
	}
	if err := s.TouchSession(ctx, []byte("hash-a"), at(20), at(50)); err != nil {
		t.Fatal(err)
	}
	if got, err := s.SessionByHash(ctx, []byte("hash-a"), at(40)); err != nil || !got.IdleExpiresAt.Equal(at(50)) || !got.LastSeenAt.Equal(at(20)) {
		t.Errorf("after touch: %+v, %v", got, err)
	}
	// Idle expiry never passes the absolute end.
	if err := s.TouchSession(ctx, []byte("hash-a"), at(49), at(10000)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.SessionByHash(ctx, []byte("hash-a"), at(49)); !got.IdleExpiresAt.Equal(at(720)) {
		t.Errorf("idle expiry %v, want capped at %v", got.IdleExpiresAt, at(720))
	}
	if _, err := s.SessionByHash(ctx, []byte("hash-a"), at(720)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("absolutely expired session = %v, want ErrNotFound", err)
	}
	if err := s.TouchSession(ctx, []byte("hash-a"), at(800), at(830)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("touch of an expired session = %v, want ErrNotFound", err)
	}

	b := session(id, "hash-b", 100)
	if err := s.CreateSession(ctx, b); err != nil {
		t.Fatal(err)
	}
	next := session(id, "hash-b2", 101)
	// An eID session: its origin is older than the session itself.
	next.Level, next.MustChangePassword, next.Origin, next.OriginAt = "high", false, "eid", at(95)
	if err := s.ReplaceSession(ctx, []byte("hash-b"), next); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SessionByHash(ctx, []byte("hash-b"), at(101)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("replaced session still there: %v", err)
	}
	if got, err := s.SessionByHash(ctx, []byte("hash-b2"), at(101)); err != nil {
		t.Errorf("replacement: %v", err)
	} else if diff := cmp.Diff(next, got); diff != "" {
		t.Errorf("replacement (-want +got):\n%s", diff)
	}
	if err := s.ReplaceSession(ctx, []byte("hash-b"), session(id, "hash-b3", 102)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("replacing a gone session = %v, want ErrNotFound", err)
	}
	if _, err := s.SessionByHash(ctx, []byte("hash-b3"), at(102)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused replacement was stored: %v", err)
	}
	if err := s.ClearMustChangePassword(ctx, []byte("hash-b2")); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.SessionByHash(ctx, []byte("hash-b2"), at(101)); got.MustChangePassword {
		t.Error("must-change flag still set")
	}
	if err := s.ClearMustChangePassword(ctx, []byte("gone")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("clear on a missing session = %v, want ErrNotFound", err)
	}

	for i, h := range []string{"c1", "c2", "c3"} {
		if err := s.CreateSession(ctx, session(id, h, 103+i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateSession(ctx, session(other, "other", 103)); err != nil {
		t.Fatal(err)
	}
	list, err := s.PersonSessions(ctx, id, at(110))
	if err != nil {
		t.Fatal(err)
	}
	var hashes []string
	for _, l := range list {
		hashes = append(hashes, string(l.TokenHash)+":"+l.Origin)
	}
	if diff := cmp.Diff([]string{"c3:letter", "c2:letter", "c1:letter", "hash-b2:eid", "hash-a:letter"}, hashes); diff != "" {
		t.Errorf("PersonSessions (-want +got):\n%s", diff)
	}
	n, err := s.DeletePersonSessions(ctx, id, []byte("c2"))
	if err != nil || n != 4 { // c1, c3, hash-b2 and hash-a
		t.Errorf("DeletePersonSessions = %d, %v; want 4", n, err)
	}
	if _, err := s.SessionByHash(ctx, []byte("c2"), at(110)); err != nil {
		t.Errorf("the kept session is gone: %v", err)
	}
	if _, err := s.SessionByHash(ctx, []byte("other"), at(110)); err != nil {
		t.Errorf("another person's session is gone: %v", err)
	}
	if err := s.DeleteSession(ctx, []byte("c2")); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSession(ctx, []byte("c2")); err != nil {
		t.Errorf("deleting a missing session: %v", err)
	}
	if n, err := s.DeleteExpiredSessions(ctx, at(10000)); err != nil || n != 1 {
		t.Errorf("DeleteExpiredSessions = %d, %v; want 1", n, err)
	}
}

func letter(id string, pid store.PersonID, kind string, created int) store.Letter {
	return store.Letter{
		ID: id, PersonID: pid, Kind: kind, Status: store.LetterQueued,
		Address:   "Jürgen Müller\nHauptstraße 12a\n10115 Berlin",
		Secrets:   store.Sealed{KeyID: "k1", Ciphertext: []byte("sealed-" + id)},
		CreatedAt: at(created), ExpiresAt: at(created + 30*24*60),
	}
}

var passwordKinds = []string{"password", "activation"}

func testLetters(t *testing.T, s store.Store) {
	ctx := t.Context()
	id := seedPerson(t, s, 1)
	allow := func(store.LetterCounts) error { return nil }
	var seen []store.LetterCounts
	record := func(c store.LetterCounts) error { seen = append(seen, c); return nil }

	if _, err := s.QueueLetter(ctx, letter("L1", id, "password", 0), passwordKinds, at(-100), "2026-11-29", record, store.LetterCodes{}); err != nil {
		t.Fatal(err)
	}
	// L2 is in English: the language is stored with the letter.
	l2in := letter("L2", id, "password", 1)
	l2in.Language = "en"
	sup, err := s.QueueLetter(ctx, l2in, passwordKinds, at(-100), "2026-11-29", record, store.LetterCodes{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"L1"}, sup); diff != "" {
		t.Errorf("superseded (-want +got):\n%s", diff)
	}
	// A notice is counted for the day but not in the password kinds window
	// and supersedes nothing of another kind.
	if sup, err := s.QueueLetter(ctx, letter("N1", id, "password_changed", 2), []string{"password_changed"}, at(-100), "2026-11-29", record, store.LetterCodes{}); err != nil || len(sup) != 0 {
		t.Errorf("notice: superseded %v, %v", sup, err)
	}
	if _, err := s.QueueLetter(ctx, letter("L3", id, "activation", 3), passwordKinds, at(0), "2026-11-29", record, store.LetterCodes{}); err != nil {
		t.Fatal(err)
	}
	wantSeen := []store.LetterCounts{{PersonSince: 0, Day: 0}, {PersonSince: 1, Day: 1}, {PersonSince: 0, Day: 2}, {PersonSince: 2, Day: 3}}
	if diff := cmp.Diff(wantSeen, seen); diff != "" {
		t.Errorf("counts seen by check (-want +got):\n%s", diff)
	}
	limit := errors.New("limit")
	if _, err := s.QueueLetter(ctx, letter("L4", id, "password", 4), passwordKinds, at(0), "2026-11-29",
		func(store.LetterCounts) error { return limit }, store.LetterCodes{}); !errors.Is(err, limit) {
		t.Errorf("refused letter = %v, want limit", err)
	}
	if _, err := s.LetterByID(ctx, "L4"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused letter was stored: %v", err)
	}
	if l2, _ := s.LetterByID(ctx, "L2"); l2.Status != store.LetterQueued {
		t.Errorf("a refused letter superseded L2: %s", l2.Status)
	}
	if _, err := s.QueueLetter(ctx, letter("L2", id, "password", 5), passwordKinds, at(0), "2026-11-30", allow, store.LetterCodes{}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate id = %v, want ErrConflict", err)
	}

	l1, err := s.LetterByID(ctx, "L1")
	if err != nil {
		t.Fatal(err)
	}
	if l1.Status != store.LetterSuperseded || !l1.Secrets.IsZero() {
		t.Errorf("L1 = %s, secrets %v; want superseded with secrets wiped", l1.Status, l1.Secrets)
	}
	l2, err := s.LetterByID(ctx, "L2")
	if err != nil {
		t.Fatal(err)
	}
	want := l2in
	want.UpdatedAt = want.CreatedAt
	if diff := cmp.Diff(want, l2); diff != "" {
		t.Errorf("L2 (-want +got):\n%s", diff)
	}
	queued, err := s.LettersByStatus(ctx, store.LetterQueued, 10)
	if err != nil {
		t.Fatal(err)
	}
	if ids := letterIDs(queued); !cmp.Equal(ids, []string{"L2", "N1", "L3"}) {
		t.Errorf("queued = %v", ids)
	}
	if err := s.MarkHandedOver(ctx, []string{"L2", "L1"}, "B1", at(10)); !errors.Is(err, store.ErrConflict) {
		t.Errorf("hand over with a superseded letter = %v, want ErrConflict", err)
	}
	if l2, _ := s.LetterByID(ctx, "L2"); l2.Status != store.LetterQueued {
		t.Errorf("a failed hand-over changed L2: %s", l2.Status)
	}
	if err := s.MarkHandedOver(ctx, []string{"L2", "N1"}, "B1", at(10)); err != nil {
		t.Fatal(err)
	}
	l2, _ = s.LetterByID(ctx, "L2")
	if l2.Status != store.LetterHandedOver || l2.BatchID != "B1" || !l2.Secrets.IsZero() || !l2.UpdatedAt.Equal(at(10)) || l2.Language != "en" {
		t.Errorf("handed over L2 = %+v", l2)
	}
	if err := s.SetLetterStatus(ctx, "L2", store.LetterHandedOver, store.LetterReturned, at(20)); err != nil {
		t.Fatal(err)
	}
	if err := s.SetLetterStatus(ctx, "L2", store.LetterHandedOver, store.LetterReturned, at(21)); !errors.Is(err, store.ErrConflict) {
		t.Errorf("second return = %v, want ErrConflict", err)
	}
	if err := s.SetLetterStatus(ctx, "nope", store.LetterHandedOver, store.LetterReturned, at(21)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown letter = %v, want ErrNotFound", err)
	}
	all, err := s.PersonLetters(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if ids := letterIDs(all); !cmp.Equal(ids, []string{"L3", "N1", "L2", "L1"}) {
		t.Errorf("PersonLetters = %v", ids)
	}
}

func letterIDs(ls []store.Letter) []string {
	out := []string{}
	for _, l := range ls {
		out = append(out, l.ID)
	}
	return out
}

// testLettersParallelCap races 20 letter requests of different persons against
// a daily cap of 5: exactly 5 are stored.
func testLettersParallelCap(t *testing.T, s store.Store) {
	const n, limit = 20, 5
	ids := make([]store.PersonID, n)
	for i := range ids {
		ids[i] = seedPerson(t, s, i)
	}
	capErr := errors.New("daily cap")
	var wg sync.WaitGroup
	var ok atomic.Int64
	for i := range n {
		wg.Go(func() {
			_, err := s.QueueLetter(t.Context(), letter(fmt.Sprintf("P%d", i), ids[i], "password", 0), passwordKinds, at(-1), "2026-11-29",
				func(c store.LetterCounts) error {
					if c.Day >= limit {
						return capErr
					}
					return nil
				}, store.LetterCodes{})
			switch {
			case err == nil:
				ok.Add(1)
			case !errors.Is(err, capErr):
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != limit {
		t.Errorf("%d letters stored under a cap of %d", ok.Load(), limit)
	}
	queued, _ := s.LettersByStatus(t.Context(), store.LetterQueued, 100)
	if len(queued) != limit {
		t.Errorf("%d letters queued, want %d", len(queued), limit)
	}
}

func testIdentifications(t *testing.T, s store.Store) {
	ctx := t.Context()
	id := seedPerson(t, s, 1)
	r1 := store.Identification{ID: "I1", PersonID: id, Method: "eid", Level: "high", Partner: "https://partner.example",
		PartnerTxn: "txn-1", SubjectLink: "sub-1", MatchedHash: []byte{1, 2, 3}, At: at(0)}
	r2 := r1
	r2.ID, r2.PartnerTxn, r2.At = "I2", "txn-2", at(5)
	for _, r := range []store.Identification{r1, r2} {
		if err := s.AddIdentification(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddIdentification(ctx, r1); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate = %v, want ErrConflict", err)
	}
	got, err := s.PersonIdentifications(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]store.Identification{r2, r1}, got); diff != "" {
		t.Errorf("PersonIdentifications (-want +got):\n%s", diff)
	}
}
