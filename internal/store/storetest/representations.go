package storetest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pforte/pforte/internal/store"
)

func representationIDs(rs []store.Representation) []store.RepresentationID {
	var out []store.RepresentationID
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

// testRepresentations: recording, reading in every direction, the end, what
// counts as current, unknown persons, and the dependents of a member.
func testRepresentations(t *testing.T, s store.Store) {
	ctx := t.Context()
	mother, child, other := seedPerson(t, s, 1), seedPerson(t, s, 2), seedPerson(t, s, 3)

	in := store.Representation{Actor: mother, Subject: child, Kind: store.KindCustodian,
		Scope: []string{"mailbox.read", "address.change", "mailbox.read"}, ValidUntil: at(60), RecordedBy: "staff:meier",
		CreatedAt: at(0), EndedAt: at(5), EndedBy: "ignored"}
	r1, err := s.CreateRepresentation(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	want := store.Representation{ID: r1.ID, Actor: mother, Subject: child, Kind: store.KindCustodian,
		Scope: []string{"address.change", "mailbox.read"}, ValidUntil: at(60), RecordedBy: "staff:meier", CreatedAt: at(0)}
	if diff := cmp.Diff(want, r1); diff != "" {
		t.Errorf("CreateRepresentation (-want +got):\n%s", diff)
	}
	if got, err := s.RepresentationByID(ctx, r1.ID); err != nil || !cmp.Equal(got, want) {
		t.Errorf("RepresentationByID = %+v, %v, want %+v", got, err, want)
	}
	r2, err := s.CreateRepresentation(ctx, store.Representation{Actor: mother, Subject: other, Kind: store.KindAuthorised,
		Scope: []string{"data.view"}, ValidUntil: at(10), RecordedBy: "staff:meier", CreatedAt: at(1)})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []store.Representation{
		{Actor: 4711, Subject: child, Kind: store.KindAuthorised, Scope: []string{"data.view"}, ValidUntil: at(60), CreatedAt: at(0)},
		{Actor: mother, Subject: 4711, Kind: store.KindAuthorised, Scope: []string{"data.view"}, ValidUntil: at(60), CreatedAt: at(0)},
	} {
		if _, err := s.CreateRepresentation(ctx, bad); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("CreateRepresentation(%d for %d) = %v, want ErrNotFound", bad.Actor, bad.Subject, err)
		}
	}
	if _, err := s.RepresentationByID(ctx, 4711); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RepresentationByID(unknown) = %v, want ErrNotFound", err)
	}

	between, err := s.RepresentationsBetween(ctx, mother, child)
	if err != nil || !cmp.Equal(representationIDs(between), []store.RepresentationID{r1.ID}) {
		t.Errorf("RepresentationsBetween = %v, %v, want [%d]", representationIDs(between), err, r1.ID)
	}
	if got, err := s.RepresentationsBetween(ctx, child, mother); err != nil || len(got) != 0 {
		t.Errorf("RepresentationsBetween(reversed) = %v, %v, want none", got, err)
	}
	// Current: not ended and valid until after now (exclusive).
	for _, tc := range []struct {
		now  int
		want []store.RepresentationID
	}{{5, []store.RepresentationID{r1.ID, r2.ID}}, {10, []store.RepresentationID{r1.ID}}, {60, nil}} {
		got, err := s.RepresentationsOf(ctx, mother, at(tc.now))
		if err != nil || !cmp.Equal(representationIDs(got), tc.want) {
			t.Errorf("RepresentationsOf(at %d) = %v, %v, want %v", tc.now, representationIDs(got), err, tc.want)
		}
	}

	ended, err := s.EndRepresentation(ctx, r1.ID, "staff:schulz", at(7))
	if err != nil {
		t.Fatal(err)
	}
	if !ended.EndedAt.Equal(at(7)) || ended.EndedBy != "staff:schulz" {
		t.Errorf("EndRepresentation = ended %v by %q, want at(7) by staff:schulz", ended.EndedAt, ended.EndedBy)
	}
	if _, err := s.EndRepresentation(ctx, r1.ID, "staff:x", at(8)); !errors.Is(err, store.ErrConflict) {
		t.Errorf("EndRepresentation(again) = %v, want ErrConflict", err)
	}
	if _, err := s.EndRepresentation(ctx, 4711, "staff:x", at(8)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("EndRepresentation(unknown) = %v, want ErrNotFound", err)
	}
	if got, err := s.RepresentationsOf(ctx, mother, at(8)); err != nil || !cmp.Equal(representationIDs(got), []store.RepresentationID{r2.ID}) {
		t.Errorf("RepresentationsOf(after end) = %v, %v, want [%d]", representationIDs(got), err, r2.ID)
	}
	if got, err := s.RepresentationsFor(ctx, child); err != nil || len(got) != 1 || got[0].EndedAt.IsZero() {
		t.Errorf("RepresentationsFor(child) = %+v, %v, want the ended one", got, err)
	}

	// Dependents follow the member's KVNR of the master data.
	m, err := s.PersonByID(ctx, mother)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{4, 5} {
		d := person(i)
		d.Relation, d.MemberKVNR = store.RelationDependent, m.KVNR
		if _, err := s.UpsertPersons(ctx, []store.Person{d}); err != nil {
			t.Fatal(err)
		}
	}
	deps, err := s.DependentsOf(ctx, m.KVNR, 10)
	if err != nil || len(deps) != 2 || deps[0].KVNR != person(4).KVNR || deps[1].KVNR != person(5).KVNR {
		t.Errorf("DependentsOf = %v, %v, want persons 4 and 5", deps, err)
	}
	if deps, err := s.DependentsOf(ctx, m.KVNR, 1); err != nil || len(deps) != 1 {
		t.Errorf("DependentsOf(limit 1) = %d, %v, want 1", len(deps), err)
	}
	if deps, err := s.DependentsOf(ctx, "", 10); err != nil || len(deps) != 0 {
		t.Errorf("DependentsOf(empty) = %d, %v, want none", len(deps), err)
	}
}

// testRepresentationEndedOnce: of parallel ends exactly one succeeds.
func testRepresentationEndedOnce(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b := seedPerson(t, s, 1), seedPerson(t, s, 2)
	r, err := s.CreateRepresentation(ctx, store.Representation{Actor: a, Subject: b, Kind: store.KindAuthorised,
		Scope: []string{"data.view"}, ValidUntil: at(60), RecordedBy: "staff:x", CreatedAt: at(0)})
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg        sync.WaitGroup
		ok, confl atomic.Int32
	)
	for range 20 {
		wg.Go(func() {
			_, err := s.EndRepresentation(ctx, r.ID, "staff:x", at(1))
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, store.ErrConflict):
				confl.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 || confl.Load() != 19 {
		t.Errorf("parallel ends: %d succeeded, %d conflicted, want 1 and 19", ok.Load(), confl.Load())
	}
}

// testApproveTxReadsRepresentations: an executor reads the person and the
// representations inside the approving transaction.
func testApproveTxReadsRepresentations(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b := seedPerson(t, s, 1), seedPerson(t, s, 2)
	r, err := s.CreateRepresentation(ctx, store.Representation{Actor: a, Subject: b, Kind: store.KindAuthorised,
		Scope: []string{"address.change"}, ValidUntil: at(60), RecordedBy: "staff:x", CreatedAt: at(0)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateApproval(ctx, approval("A", a, "family.address_change", 0), at(-10), nil, nil); err != nil {
		t.Fatal(err)
	}
	var (
		subject store.Person
		reps    []store.Representation
	)
	_, err = s.ApproveApproval(ctx, "A", contentHash, "D", "pin", at(1), func(ctx context.Context, tx store.ApprovalTx, ap store.Approval) error {
		var err error
		if subject, err = tx.PersonByID(ctx, b); err != nil {
			return err
		}
		if _, err := tx.PersonByID(ctx, 4711); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("tx.PersonByID(unknown) = %v, want ErrNotFound", err)
		}
		reps, err = tx.RepresentationsBetween(ctx, ap.PersonID, b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if subject.ID != b || subject.KVNR != person(2).KVNR {
		t.Errorf("tx.PersonByID = %d %s, want person 2", subject.ID, subject.KVNR)
	}
	if !cmp.Equal(representationIDs(reps), []store.RepresentationID{r.ID}) {
		t.Errorf("tx.RepresentationsBetween = %v, want [%d]", representationIDs(reps), r.ID)
	}
}
