package family_test

import (
	"errors"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/family"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/registry"
	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/testdb"
)

// TestRepresentationOnStore: Service.Representation on every database, at
// a fixed clock: the parent up to the day before the 15th birthday,
// another family's child never, an appointment within scope until its end
// (or until staff end it), and unknown persons like strangers.
func TestRepresentationOnStore(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		ctx := t.Context()
		birthday := time.Date(2026, 6, 15, 0, 0, 0, 0, lang.Berlin)
		now := birthday.Add(-time.Minute)
		clock := func() time.Time { return now }
		k, err := seal.GenerateKey("k1")
		if err != nil {
			t.Fatal(err)
		}
		ring, err := seal.NewKeyring(k)
		if err != nil {
			t.Fatal(err)
		}
		s := family.New(st, nil, nil, ring, audit.New(st, audit.GenerateKey(), clock, nil), clock, nil)
		put := func(prefix, birth string, rel store.Relation, member string) store.Person {
			d, err := registry.KVNRCheckDigit(prefix)
			if err != nil {
				t.Fatal(err)
			}
			kvnr := prefix + string(d)
			if _, err := st.UpsertPersons(ctx, []store.Person{{KVNR: kvnr, FamilyName: "Muster", GivenNames: "X", BirthDate: birth,
				Relation: rel, MemberKVNR: member, Digest: []byte(kvnr), UpdatedAt: now}}); err != nil {
				t.Fatal(err)
			}
			p, err := st.PersonByKVNR(ctx, kvnr)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		mother := put("A00000001", "1980-01-01", store.RelationMember, "")
		other := put("A00000002", "1981-01-01", store.RelationMember, "")
		child := put("A00000003", "2011-06-15", store.RelationDependent, mother.KVNR)
		stranger := put("A00000004", "2018-01-01", store.RelationDependent, other.KVNR)
		adult := put("A00000005", "1940-01-01", store.RelationMember, "")

		check := func(name string, actor, subject store.PersonID, action string, want error) {
			t.Helper()
			_, err := s.Representation(ctx, actor, subject, action, now)
			if !errors.Is(err, want) || (want == nil) != (err == nil) {
				t.Errorf("%s: Representation = %v, want %v", name, err, want)
			}
		}
		check("child, the minute before the birthday", mother.ID, child.ID, family.ActionAddressChange, nil)
		check("another family's child", mother.ID, stranger.ID, family.ActionDataView, family.ErrNotLinked)
		check("unknown person", mother.ID, 4711, family.ActionDataView, family.ErrNotLinked)
		check("nobody's representative", mother.ID, adult.ID, family.ActionDataView, family.ErrNotLinked)

		r, err := s.Appoint(ctx, family.Appointment{ActorKVNR: mother.KVNR, SubjectKVNR: adult.KVNR, Kind: store.KindAuthorised,
			Scope: []string{family.ActionDataView}, ValidUntil: now.Add(time.Hour), By: "meier"})
		if err != nil {
			t.Fatal(err)
		}
		check("appointed, in scope", mother.ID, adult.ID, family.ActionDataView, nil)
		check("appointed, beyond scope", mother.ID, adult.ID, family.ActionMailboxRead, family.ErrOutOfScope)

		now = birthday // the clock moves on
		check("child, on the birthday", mother.ID, child.ID, family.ActionAddressChange, family.ErrTurned15)
		now = birthday.Add(time.Hour)
		check("appointed, at its end", mother.ID, adult.ID, family.ActionDataView, family.ErrEnded)

		now = birthday.Add(-2 * time.Hour)
		check("appointed, back before its end", mother.ID, adult.ID, family.ActionDataView, nil)
		if _, err := s.EndAppointment(ctx, r.ID, "schulz"); err != nil {
			t.Fatal(err)
		}
		check("appointed, ended by staff", mother.ID, adult.ID, family.ActionDataView, family.ErrEnded)
		if _, err := s.EndAppointment(ctx, r.ID, "schulz"); !errors.Is(err, family.ErrAlreadyEnded) {
			t.Errorf("EndAppointment(again) = %v, want ErrAlreadyEnded", err)
		}
	})
}
