package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/pforte/pforte/internal/store"
)

func person(i int) store.Person {
	return store.Person{
		KVNR:              fmt.Sprintf("A%09d", i),
		FamilyName:        "Müller",
		GivenNames:        "Jürgen Karl",
		Title:             "Dr.",
		Salutation:        "Herr",
		BirthName:         "Weiß",
		BirthDate:         "1970-03",
		Street:            "Hauptstraße",
		HouseNumber:       "12a",
		PostalCode:        "10115",
		City:              "Berlin",
		AddressVerifiedAt: at(-60 * 24),
		AddressVerifiedBy: "melderegister",
		IBAN:              store.Sealed{KeyID: "k1", Ciphertext: []byte{1, 2, 3, byte(i)}},
		Relation:          store.RelationMember,
		Digest:            []byte(fmt.Sprintf("digest-%d", i)),
		UpdatedAt:         at(0),
	}
}

func testPersonsUpsert(t *testing.T, s store.Store) {
	ctx := t.Context()
	res, err := s.UpsertPersons(ctx, []store.Person{person(1), person(2)})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(store.UpsertResult{Inserted: 2}, res); diff != "" {
		t.Errorf("first upsert (-want +got):\n%s", diff)
	}
	changed := person(2)
	changed.City = "Potsdam"
	changed.Digest = []byte("digest-2-changed")
	changed.UpdatedAt = at(5)
	res, err = s.UpsertPersons(ctx, []store.Person{person(1), changed, person(3)})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(store.UpsertResult{Inserted: 1, Updated: 1, Unchanged: 1}, res); diff != "" {
		t.Errorf("second upsert (-want +got):\n%s", diff)
	}
	got, err := s.PersonByKVNR(ctx, changed.KVNR)
	if err != nil {
		t.Fatal(err)
	}
	if got.City != "Potsdam" || got.Version != 2 || !got.UpdatedAt.Equal(at(5)) || !got.CreatedAt.Equal(at(0)) {
		t.Errorf("updated person: city %q version %d updated %v created %v; want Potsdam 2 %v %v",
			got.City, got.Version, got.UpdatedAt, got.CreatedAt, at(5), at(0))
	}
	n, err := s.CountPersons(ctx)
	if err != nil || n != 3 {
		t.Errorf("CountPersons = %d, %v; want 3", n, err)
	}
	page, err := s.ListPersons(ctx, 0, 2)
	if err != nil || len(page) != 2 || page[0].ID >= page[1].ID {
		t.Fatalf("ListPersons(0, 2) = %d persons, %v", len(page), err)
	}
	rest, err := s.ListPersons(ctx, page[1].ID, 10)
	if err != nil || len(rest) != 1 || rest[0].ID <= page[1].ID {
		t.Errorf("ListPersons(after, 10) = %d persons, %v", len(rest), err)
	}
	if res, err := s.UpsertPersons(ctx, nil); err != nil || res != (store.UpsertResult{}) {
		t.Errorf("empty upsert = %+v, %v", res, err)
	}
}

func testPersonsUpsertIdempotent(t *testing.T, s store.Store) {
	ctx := t.Context()
	batch := []store.Person{person(1), person(2), person(3)}
	if _, err := s.UpsertPersons(ctx, batch); err != nil {
		t.Fatal(err)
	}
	before, err := s.PersonByKVNR(ctx, person(2).KVNR)
	if err != nil {
		t.Fatal(err)
	}
	later := make([]store.Person, len(batch))
	for i, p := range batch {
		p.UpdatedAt = at(60) // a later import of the same content
		later[i] = p
	}
	res, err := s.UpsertPersons(ctx, later)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(store.UpsertResult{Unchanged: 3}, res); diff != "" {
		t.Errorf("re-import (-want +got):\n%s", diff)
	}
	after, err := s.PersonByKVNR(ctx, person(2).KVNR)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("re-import changed the row (-before +after):\n%s", diff)
	}
}

// upsertSpan is larger than any sensible rows-per-statement bound, so a large
// batch crosses statement boundaries inside one transaction.
const upsertSpan = 1100

func testPersonsUpsertLargeBatch(t *testing.T, s store.Store) {
	ctx := t.Context()
	const n = upsertSpan // spans several statements
	batch := make([]store.Person, n)
	for i := range batch {
		batch[i] = person(i)
	}
	res, err := s.UpsertPersons(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	if res.Inserted != n {
		t.Errorf("Inserted = %d, want %d", res.Inserted, n)
	}
	batch[n-1].Digest = []byte("other")
	res, err = s.UpsertPersons(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(store.UpsertResult{Updated: 1, Unchanged: n - 1}, res); diff != "" {
		t.Errorf("second upsert (-want +got):\n%s", diff)
	}
	if c, _ := s.CountPersons(ctx); c != n {
		t.Errorf("CountPersons = %d, want %d", c, n)
	}
}

func testPersonsRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	want := person(7)
	dependent := person(8)
	dependent.Relation = store.RelationDependent
	dependent.MemberKVNR = want.KVNR
	dependent.IBAN = store.Sealed{}
	unverified := person(9)
	unverified.AddressVerifiedAt, unverified.AddressVerifiedBy = time.Time{}, ""
	if _, err := s.UpsertPersons(ctx, []store.Person{want, dependent, unverified}); err != nil {
		t.Fatal(err)
	}
	ignore := cmpopts.IgnoreFields(store.Person{}, "ID", "Version", "CreatedAt")
	for _, w := range []store.Person{want, dependent, unverified} {
		got, err := s.PersonByKVNR(ctx, w.KVNR)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(w, got, ignore, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("PersonByKVNR(%s) (-want +got):\n%s", w.KVNR, diff)
		}
		if got.ID == 0 || got.Version != 1 || !got.CreatedAt.Equal(w.UpdatedAt) {
			t.Errorf("PersonByKVNR(%s): id %d version %d created %v", w.KVNR, got.ID, got.Version, got.CreatedAt)
		}
		byID, err := s.PersonByID(ctx, got.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(got, byID); diff != "" {
			t.Errorf("PersonByID differs from PersonByKVNR (-kvnr +id):\n%s", diff)
		}
	}
}

func testPersonsNotFound(t *testing.T, s store.Store) {
	ctx := t.Context()
	if _, err := s.PersonByKVNR(ctx, "X110411675"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("PersonByKVNR(unknown) = %v, want ErrNotFound", err)
	}
	if _, err := s.PersonByID(ctx, 4711); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("PersonByID(unknown) = %v, want ErrNotFound", err)
	}
	_, err := s.UpdatePerson(ctx, 4711, func(p *store.Person) error { return nil })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdatePerson(unknown) = %v, want ErrNotFound", err)
	}
}

func testUpdatePerson(t *testing.T, s store.Store) {
	ctx := t.Context()
	if _, err := s.UpsertPersons(ctx, []store.Person{person(1)}); err != nil {
		t.Fatal(err)
	}
	p, err := s.PersonByKVNR(ctx, person(1).KVNR)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.UpdatePerson(ctx, p.ID, func(q *store.Person) error {
		q.Street, q.HouseNumber = "Lindenallee", "3"
		q.KVNR = "B000000000" // must be ignored
		q.UpdatedAt = at(10)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := s.PersonByID(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, stored); diff != "" {
		t.Errorf("returned and stored differ (-returned +stored):\n%s", diff)
	}
	if stored.Street != "Lindenallee" || stored.KVNR != p.KVNR || stored.Version != 2 || !stored.UpdatedAt.Equal(at(10)) {
		t.Errorf("after update: %+v", stored)
	}
	boom := errors.New("boom")
	_, err = s.UpdatePerson(ctx, p.ID, func(q *store.Person) error {
		q.City = "Hamburg"
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("UpdatePerson with failing fn = %v, want boom", err)
	}
	if again, _ := s.PersonByID(ctx, p.ID); again.City != "Berlin" || again.Version != 2 {
		t.Errorf("failed update wrote: city %q version %d", again.City, again.Version)
	}
}

func testUpdatePersonParallel(t *testing.T, s store.Store) {
	ctx := t.Context()
	if _, err := s.UpsertPersons(ctx, []store.Person{person(1)}); err != nil {
		t.Fatal(err)
	}
	p, err := s.PersonByKVNR(ctx, person(1).KVNR)
	if err != nil {
		t.Fatal(err)
	}
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := s.UpdatePerson(ctx, p.ID, func(q *store.Person) error {
				q.HouseNumber += "x"
				return nil
			})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.PersonByID(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := p.HouseNumber; len(got.HouseNumber) != len(want)+n || got.Version != 1+n {
		t.Errorf("after %d parallel updates: house number %q (len %d), version %d; want len %d, version %d",
			n, got.HouseNumber, len(got.HouseNumber), got.Version, len(want)+n, 1+n)
	}
}
