package storetest

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pforte/pforte/internal/store"
)

func staffKey(id string, staff store.StaffID) store.StaffKey {
	return store.StaffKey{ID: []byte(id), StaffID: staff, Name: "Schlüssel " + id, Credential: []byte(`{"id":"` + id + `"}`),
		SignCount: 0, CreatedAt: at(1)}
}

func testStaffKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b := seedStaff(t, s, "a"), seedStaff(t, s, "b")
	for _, k := range []store.StaffKey{staffKey("k1", a), staffKey("k2", a), staffKey("k3", b)} {
		if err := s.AddStaffKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddStaffKey(ctx, staffKey("k1", b)); !errors.Is(err, store.ErrConflict) {
		t.Errorf("AddStaffKey(same id) = %v, want ErrConflict", err)
	}
	got, err := s.StaffKeysOf(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]store.StaffKey{staffKey("k1", a), staffKey("k2", a)}, got); diff != "" {
		t.Errorf("StaffKeysOf (-want +got):\n%s", diff)
	}
	// The counter: 0 after 0 is an authenticator without a counter; then
	// only higher counters.
	for _, c := range []struct {
		staff store.StaffID
		key   string
		count int64
		want  error
	}{
		{a, "k1", 0, nil},
		{a, "k1", 5, nil},
		{a, "k1", 5, store.ErrConflict},
		{a, "k1", 4, store.ErrConflict},
		{a, "k1", 0, store.ErrConflict},
		{a, "k1", 6, nil},
		{b, "k1", 7, store.ErrNotFound},
		{a, "nope", 1, store.ErrNotFound},
	} {
		if err := s.UseStaffKey(ctx, c.staff, []byte(c.key), c.count, at(2)); !errors.Is(err, c.want) {
			t.Errorf("UseStaffKey(%v, %s, %d) = %v, want %v", c.staff, c.key, c.count, err, c.want)
		}
	}
	got, _ = s.StaffKeysOf(ctx, a)
	if len(got) != 2 || got[0].SignCount != 6 || !got[0].LastUsedAt.Equal(at(2)) {
		t.Errorf("after uses: %+v", got)
	}
	// Factors: a has TOTP and two keys; b has TOTP and one key.
	if err := s.RemoveStaffFactor(ctx, a, []byte("k3"), at(3)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RemoveStaffFactor(another's key) = %v, want ErrNotFound", err)
	}
	if err := s.RemoveStaffFactor(ctx, a, nil, at(3)); err != nil {
		t.Fatalf("RemoveStaffFactor(TOTP) = %v", err)
	}
	if m, _ := s.StaffByID(ctx, a); len(m.TOTPSecret.Ciphertext) != 0 || m.TOTPSecret.KeyID != "" || !m.UpdatedAt.Equal(at(3)) {
		t.Errorf("TOTP after removal: %+v", m.TOTPSecret)
	}
	if err := s.RemoveStaffFactor(ctx, a, nil, at(3)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RemoveStaffFactor(TOTP again) = %v, want ErrNotFound", err)
	}
	if err := s.RemoveStaffFactor(ctx, a, []byte("k1"), at(3)); err != nil {
		t.Fatalf("RemoveStaffFactor(k1) = %v", err)
	}
	if err := s.RemoveStaffFactor(ctx, a, []byte("k2"), at(3)); !errors.Is(err, store.ErrConflict) {
		t.Errorf("RemoveStaffFactor(the last factor) = %v, want ErrConflict", err)
	}
	if got, _ := s.StaffKeysOf(ctx, a); len(got) != 1 {
		t.Errorf("keys left: %d, want 1", len(got))
	}
	if n, err := s.DeleteStaffKeys(ctx, b); n != 1 || err != nil {
		t.Errorf("DeleteStaffKeys = %d, %v; want 1", n, err)
	}
	if got, _ := s.StaffKeysOf(ctx, b); len(got) != 0 {
		t.Errorf("keys of b after DeleteStaffKeys: %d", len(got))
	}
}

// testStaffKeyUsedOnce: of parallel uses of a key with the same counter,
// exactly one is accepted.
func testStaffKeyUsedOnce(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := seedStaff(t, s, "a")
	if err := s.AddStaffKey(ctx, staffKey("k1", a)); err != nil {
		t.Fatal(err)
	}
	won, lost := race(t, 20, store.ErrConflict, func(int) error { return s.UseStaffKey(ctx, a, []byte("k1"), 9, at(2)) })
	if won != 1 || lost != 19 {
		t.Errorf("parallel uses of one counter: %d accepted, %d refused; want 1 and 19", won, lost)
	}
}

// testStaffLastFactorParallel: parallel removals of a staff member's two
// keys (no TOTP) leave one.
func testStaffLastFactorParallel(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := seedStaff(t, s, "a")
	for _, k := range []string{"k1", "k2"} {
		if err := s.AddStaffKey(ctx, staffKey(k, a)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RemoveStaffFactor(ctx, a, nil, at(2)); err != nil {
		t.Fatal(err)
	}
	won, lost := race(t, 2, store.ErrConflict, func(i int) error {
		return s.RemoveStaffFactor(ctx, a, []byte([]string{"k1", "k2"}[i]), at(2))
	})
	if won != 1 || lost != 1 {
		t.Errorf("parallel removal of both keys: %d removed, %d refused; want 1 and 1", won, lost)
	}
}

func testStaffChallenges(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := seedStaff(t, s, "a")
	c := store.StaffChallenge{HandleHash: []byte("h1"), StaffID: a, Kind: "login", Data: []byte("{}"), ExpiresAt: at(2)}
	if err := s.AddStaffChallenge(ctx, c, at(0)); err != nil {
		t.Fatal(err)
	}
	if err := s.AddStaffChallenge(ctx, c, at(0)); !errors.Is(err, store.ErrConflict) {
		t.Errorf("AddStaffChallenge(same handle) = %v, want ErrConflict", err)
	}
	got, err := s.TakeStaffChallenge(ctx, []byte("h1"), "login", at(1))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(c, got); diff != "" {
		t.Errorf("TakeStaffChallenge (-want +got):\n%s", diff)
	}
	if _, err := s.TakeStaffChallenge(ctx, []byte("h1"), "login", at(1)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TakeStaffChallenge(again) = %v, want ErrNotFound", err)
	}
	// Another kind or an expired one is not taken, and is gone all the same.
	for _, tc := range []struct {
		kind string
		now  int
	}{{"register", 1}, {"login", 2}} {
		if err := s.AddStaffChallenge(ctx, c, at(0)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.TakeStaffChallenge(ctx, []byte("h1"), tc.kind, at(tc.now)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("TakeStaffChallenge(%s at %d) = %v, want ErrNotFound", tc.kind, tc.now, err)
		}
		if _, err := s.TakeStaffChallenge(ctx, []byte("h1"), "login", at(1)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("challenge left after a refused take: %v", err)
		}
	}
	// Adding removes the expired ones.
	old := store.StaffChallenge{HandleHash: []byte("old"), StaffID: a, Kind: "login", Data: []byte("{}"), ExpiresAt: at(2)}
	if err := s.AddStaffChallenge(ctx, old, at(0)); err != nil {
		t.Fatal(err)
	}
	if err := s.AddStaffChallenge(ctx, store.StaffChallenge{HandleHash: []byte("new"), StaffID: a, Kind: "login",
		Data: []byte("{}"), ExpiresAt: at(10)}, at(3)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TakeStaffChallenge(ctx, []byte("old"), "login", at(0)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("expired challenge kept: %v", err)
	}
	won, lost := race(t, 20, store.ErrNotFound, func(int) error {
		_, err := s.TakeStaffChallenge(ctx, []byte("new"), "login", at(4))
		return err
	})
	if won != 1 || lost != 19 {
		t.Errorf("parallel takes: %d got it, %d not; want 1 and 19", won, lost)
	}
}

func testStaffExternalID(t *testing.T, s store.Store) {
	ctx := t.Context()
	seedStaff(t, s, "a")
	m := staffMember("firma.1")
	m.ExternalID = "https://idp.example sub-1"
	id, err := s.AddStaff(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	dup := staffMember("firma.2")
	dup.ExternalID = m.ExternalID
	if _, err := s.AddStaff(ctx, dup); !errors.Is(err, store.ErrConflict) {
		t.Errorf("AddStaff(same external id) = %v, want ErrConflict", err)
	}
	got, err := s.StaffByExternalID(ctx, m.ExternalID)
	if err != nil || got.ID != id || got.ExternalID != m.ExternalID {
		t.Errorf("StaffByExternalID = %+v, %v", got, err)
	}
	if _, err := s.StaffByExternalID(ctx, ""); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("StaffByExternalID(\"\") = %v, want ErrNotFound", err)
	}
	up, err := s.UpdateStaff(ctx, id, func(x *store.StaffMember) error { x.ExternalID = "other"; x.Role = "auditor"; return nil })
	if err != nil || up.ExternalID != m.ExternalID || up.Role != "auditor" {
		t.Errorf("UpdateStaff changed the external id: %+v, %v", up, err)
	}
}
