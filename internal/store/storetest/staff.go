package storetest

import (
	"errors"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pforte/pforte/internal/store"
)

func staffMember(login string) store.StaffMember {
	return store.StaffMember{Login: login, Name: "Erika Muster", Role: "clerk", PasswordHash: "$argon2id$x",
		TOTPSecret: store.Sealed{KeyID: "k1", Ciphertext: []byte{1, 2, 3}}, CreatedAt: at(0), UpdatedAt: at(0)}
}

func seedStaff(t *testing.T, s store.Store, login string) store.StaffID {
	t.Helper()
	id, err := s.AddStaff(t.Context(), staffMember(login))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func testStaffAccounts(t *testing.T, s store.Store) {
	ctx := t.Context()
	id := seedStaff(t, s, "erika")
	if _, err := s.AddStaff(ctx, staffMember("erika")); !errors.Is(err, store.ErrConflict) {
		t.Errorf("AddStaff(same login) = %v, want ErrConflict", err)
	}
	got, err := s.StaffByLogin(ctx, "erika")
	if err != nil {
		t.Fatal(err)
	}
	want := staffMember("erika")
	want.ID, want.Version = id, 1
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("StaffByLogin (-want +got):\n%s", diff)
	}
	if _, err := s.StaffByID(ctx, id+100); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("StaffByID(unknown) = %v, want ErrNotFound", err)
	}
	if _, err := s.StaffByLogin(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("StaffByLogin(unknown) = %v, want ErrNotFound", err)
	}
	boom := errors.New("boom")
	if _, err := s.UpdateStaff(ctx, id, func(m *store.StaffMember) error { m.Role = "auditor"; return boom }); !errors.Is(err, boom) {
		t.Errorf("UpdateStaff(fn fails) = %v, want boom", err)
	}
	up, err := s.UpdateStaff(ctx, id, func(m *store.StaffMember) error {
		m.Login, m.Role, m.Failures, m.LockedUntil, m.DisabledAt, m.TOTPLastStep, m.UpdatedAt = "other", "supervisor", 2, at(5), at(6), 99, at(7)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.StaffByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(up, again); diff != "" {
		t.Errorf("UpdateStaff result and stored differ (-result +stored):\n%s", diff)
	}
	if again.Login != "erika" || again.Role != "supervisor" || again.Failures != 2 || !again.LockedUntil.Equal(at(5)) ||
		!again.DisabledAt.Equal(at(6)) || again.TOTPLastStep != 99 || again.Version != 2 {
		t.Errorf("after UpdateStaff: %+v", again)
	}
	if _, err := s.UpdateStaff(ctx, id+100, func(*store.StaffMember) error { return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateStaff(unknown) = %v, want ErrNotFound", err)
	}
	seedStaff(t, s, "anna")
	list, err := s.ListStaff(ctx)
	if err != nil || len(list) != 2 || list[0].Login != "anna" || list[1].Login != "erika" {
		t.Errorf("ListStaff = %+v, %v", list, err)
	}
}

// testStaffTOTPStepParallel: of parallel updaters that each accept a code
// only above the last step used, exactly one accepts the same step.
func testStaffTOTPStepParallel(t *testing.T, s store.Store) {
	ctx := t.Context()
	id := seedStaff(t, s, "erika")
	used := errors.New("step used")
	won, lost := race(t, 20, used, func(int) error {
		_, err := s.UpdateStaff(ctx, id, func(m *store.StaffMember) error {
			if m.TOTPLastStep >= 1000 {
				return used
			}
			m.TOTPLastStep = 1000
			return nil
		})
		return err
	})
	if won != 1 || lost != 19 {
		t.Errorf("parallel use of one step: %d accepted, %d refused; want 1 and 19", won, lost)
	}
}

func testStaffSessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b := seedStaff(t, s, "a"), seedStaff(t, s, "b")
	sess := func(hash string, id store.StaffID) store.StaffSession {
		return store.StaffSession{TokenHash: []byte(hash), StaffID: id, ClientIP: "192.0.2.1", UserAgent: "test",
			CreatedAt: at(0), LastSeenAt: at(0), IdleExpiresAt: at(15), ExpiresAt: at(60)}
	}
	for _, x := range []store.StaffSession{sess("h1", a), sess("h2", a), sess("h3", b)} {
		if err := s.CreateStaffSession(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateStaffSession(ctx, sess("h1", b)); !errors.Is(err, store.ErrConflict) {
		t.Errorf("CreateStaffSession(same hash) = %v, want ErrConflict", err)
	}
	got, err := s.StaffSessionByHash(ctx, []byte("h1"), at(1))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sess("h1", a), got); diff != "" {
		t.Errorf("StaffSessionByHash (-want +got):\n%s", diff)
	}
	if _, err := s.StaffSessionByHash(ctx, []byte("h1"), at(15)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after the idle expiry = %v, want ErrNotFound", err)
	}
	if err := s.TouchStaffSession(ctx, []byte("h1"), at(10), at(80)); err != nil {
		t.Fatal(err)
	}
	got, err = s.StaffSessionByHash(ctx, []byte("h1"), at(20))
	if err != nil || !got.IdleExpiresAt.Equal(at(60)) || !got.LastSeenAt.Equal(at(10)) {
		t.Errorf("after Touch: %+v, %v; want idle expiry capped at the absolute end", got, err)
	}
	if err := s.TouchStaffSession(ctx, []byte("h2"), at(20), at(35)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Touch of an idle-expired session = %v, want ErrNotFound", err)
	}
	if err := s.DeleteStaffSession(ctx, []byte("h3")); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteStaffSession(ctx, []byte("h3")); err != nil {
		t.Errorf("deleting a missing session: %v", err)
	}
	if _, err := s.StaffSessionByHash(ctx, []byte("h3"), at(1)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted session = %v, want ErrNotFound", err)
	}
	if n, err := s.DeleteExpiredStaffSessions(ctx, at(16)); err != nil || n != 1 {
		t.Errorf("DeleteExpiredStaffSessions = %d, %v; want 1 (h2)", n, err)
	}
	if n, err := s.DeleteStaffSessions(ctx, a); err != nil || n != 1 {
		t.Errorf("DeleteStaffSessions = %d, %v; want 1", n, err)
	}
}

func testStaffRequests(t *testing.T, s store.Store) {
	ctx := t.Context()
	p1, p2 := seedPerson(t, s, 1), seedPerson(t, s, 2)
	by, other := seedStaff(t, s, "a"), seedStaff(t, s, "b")
	req := func(id string, p store.PersonID, minute int) store.StaffRequest {
		return store.StaffRequest{ID: id, Kind: "pin.reset", PersonID: p, Target: "dev-1", Reason: "Anruf", Method: "Rückruf",
			Status: store.StaffRequestPending, RequestedBy: by, CreatedAt: at(minute)}
	}
	for _, r := range []store.StaffRequest{req("r2", p1, 2), req("r1", p1, 1), req("r3", p2, 3)} {
		if err := s.AddStaffRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddStaffRequest(ctx, req("r1", p2, 4)); !errors.Is(err, store.ErrConflict) {
		t.Errorf("AddStaffRequest(same id) = %v, want ErrConflict", err)
	}
	got, err := s.StaffRequestByID(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(req("r1", p1, 1), got); diff != "" {
		t.Errorf("StaffRequestByID (-want +got):\n%s", diff)
	}
	ids := func(rs []store.StaffRequest) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	if list, err := s.PendingStaffRequests(ctx, p1, 10); err != nil || !cmp.Equal(ids(list), []string{"r1", "r2"}) {
		t.Errorf("PendingStaffRequests(p1) = %v, %v", ids(list), err)
	}
	if list, err := s.PendingStaffRequests(ctx, 0, 2); err != nil || !cmp.Equal(ids(list), []string{"r1", "r2"}) {
		t.Errorf("PendingStaffRequests(all, 2) = %v, %v", ids(list), err)
	}
	boom := errors.New("boom")
	if _, err := s.DecideStaffRequest(ctx, "r1", store.StaffRequestConfirmed, other, at(5), func(store.StaffRequest) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("DecideStaffRequest(act fails) = %v, want boom", err)
	}
	if r, err := s.StaffRequestByID(ctx, "r1"); err != nil || r.Status != store.StaffRequestPending {
		t.Errorf("after a failed act: %+v, %v; want still pending", r, err)
	}
	d, err := s.DecideStaffRequest(ctx, "r1", store.StaffRequestConfirmed, other, at(5), func(store.StaffRequest) error { return nil })
	if err != nil || d.Status != store.StaffRequestConfirmed || d.DecidedBy != other || !d.DecidedAt.Equal(at(5)) {
		t.Errorf("DecideStaffRequest = %+v, %v", d, err)
	}
	if stored, err := s.StaffRequestByID(ctx, "r1"); err != nil || !cmp.Equal(stored, d) {
		t.Errorf("stored decision = %+v, %v; want %+v", stored, err, d)
	}
	if _, err := s.DecideStaffRequest(ctx, "r1", store.StaffRequestDeclined, other, at(6), func(store.StaffRequest) error { return nil }); !errors.Is(err, store.ErrConflict) {
		t.Errorf("deciding twice = %v, want ErrConflict", err)
	}
	if _, err := s.DecideStaffRequest(ctx, "nope", store.StaffRequestDeclined, other, at(6), func(store.StaffRequest) error { return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deciding an unknown request = %v, want ErrNotFound", err)
	}
	if list, err := s.PendingStaffRequests(ctx, p1, 10); err != nil || !cmp.Equal(ids(list), []string{"r2"}) {
		t.Errorf("PendingStaffRequests after the decision = %v, %v", ids(list), err)
	}
}

// testStaffRequestDecidedOnce: of parallel decisions on one request, exactly
// one carries its act out.
func testStaffRequestDecidedOnce(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := seedPerson(t, s, 1)
	by, other := seedStaff(t, s, "a"), seedStaff(t, s, "b")
	if err := s.AddStaffRequest(ctx, store.StaffRequest{ID: "r", Kind: "pin.reset", PersonID: p, Reason: "x",
		RequestedBy: by, CreatedAt: at(0)}); err != nil {
		t.Fatal(err)
	}
	var acts atomic.Int64
	won, lost := race(t, 20, store.ErrConflict, func(int) error {
		_, err := s.DecideStaffRequest(ctx, "r", store.StaffRequestConfirmed, other, at(1), func(store.StaffRequest) error {
			return nil
		})
		if err == nil {
			acts.Add(1) // only the winner's act commits; counted after the commit
		}
		return err
	})
	if won != 1 || lost != 19 || acts.Load() != 1 {
		t.Errorf("parallel decisions: %d won, %d refused, %d acts; want 1, 19, 1", won, lost, acts.Load())
	}
}

func testPersonsByBirthDate(t *testing.T, s store.Store) {
	ctx := t.Context()
	var batch []store.Person
	for i := range 5 {
		p := person(i + 1)
		p.BirthDate = []string{"1970-03-14", "1970-03-14", "1980-01-01", "1970-03", "1970-03-14"}[i]
		batch = append(batch, p)
	}
	if _, err := s.UpsertPersons(ctx, batch); err != nil {
		t.Fatal(err)
	}
	got, err := s.PersonsByBirthDate(ctx, "1970-03-14", 10)
	if err != nil {
		t.Fatal(err)
	}
	var kvnrs []string
	for _, p := range got {
		kvnrs = append(kvnrs, p.KVNR)
	}
	if want := []string{person(1).KVNR, person(2).KVNR, person(5).KVNR}; !cmp.Equal(kvnrs, want) {
		t.Errorf("PersonsByBirthDate = %v, want %v", kvnrs, want)
	}
	if got, err := s.PersonsByBirthDate(ctx, "1970-03-14", 2); err != nil || len(got) != 2 {
		t.Errorf("limit 2: %d persons, %v", len(got), err)
	}
	if got, err := s.PersonsByBirthDate(ctx, "1970-03", 10); err != nil || len(got) != 1 {
		t.Errorf("a partial date matches as stored: %d persons, %v; want 1", len(got), err)
	}
}

func testSearchAudit(t *testing.T, s store.Store) {
	ctx := t.Context()
	// Entries 1..6 at minutes 0..5 with these actors, events and subjects.
	rows := []struct{ actor, event, subject string }{
		{"person:1", "account.login", "person:1"},
		{"staff:1", "staff.login", "staff:1"},
		{"staff:1", "staff.device_revoked", "person:1"},
		{"system", "dispatch.queued", "person:2"},
		{"staff:2", "staff.session_end", "person:2"},
		{"person:1", "staff_x.other", "person:1"},
	}
	err := s.AppendAudit(ctx, func(head store.AuditHead) ([]store.AuditEntry, error) {
		var out []store.AuditEntry
		seq, hash := head.Seq, head.Hash
		for _, r := range rows {
			e := chainEntry(seq, hash, r.event)
			e.Actor, e.Subject = r.actor, r.subject
			out = append(out, e)
			seq, hash = e.Seq, e.Hash
		}
		return out, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		f     store.AuditFilter
		limit int
		want  []int64
	}{
		{store.AuditFilter{}, 10, []int64{6, 5, 4, 3, 2, 1}},
		{store.AuditFilter{}, 2, []int64{6, 5}},
		{store.AuditFilter{Before: 5}, 2, []int64{4, 3}},
		{store.AuditFilter{Actor: "staff:1"}, 10, []int64{3, 2}},
		{store.AuditFilter{Subject: "person:1"}, 10, []int64{6, 3, 1}},
		{store.AuditFilter{Event: "staff."}, 10, []int64{5, 3, 2}},
		{store.AuditFilter{Event: "staff.login"}, 10, []int64{2}},
		{store.AuditFilter{Event: "staff"}, 10, []int64{}},
		{store.AuditFilter{From: at(1), To: at(3)}, 10, []int64{3, 2}},
		{store.AuditFilter{Subject: "person:1", ExcludeActorPrefix: "staff:"}, 10, []int64{6, 1}},
		{store.AuditFilter{Actor: "staff:1", Subject: "person:1", Event: "staff."}, 10, []int64{3}},
	} {
		got, err := s.SearchAudit(ctx, tt.f, tt.limit)
		if err != nil {
			t.Fatal(err)
		}
		if !cmp.Equal(seqs(got), tt.want) {
			t.Errorf("SearchAudit(%+v, %d) = %v, want %v", tt.f, tt.limit, seqs(got), tt.want)
		}
	}
	all, err := s.SearchAudit(ctx, store.AuditFilter{Actor: "system"}, 1)
	if err != nil || len(all) != 1 || all[0].ClientIP != "192.0.2.1" || string(all[0].Details) != `{"n":1}` || !all[0].Time.Equal(at(3)) {
		t.Errorf("a found entry's fields: %+v, %v", all, err)
	}
}
