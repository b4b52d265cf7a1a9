package family_test

import (
	"errors"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/family"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/store"
)

func berlin(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, lang.Berlin)
}

var (
	mother = store.Person{ID: 1, KVNR: "A123456780", Relation: store.RelationMember}
	other  = store.Person{ID: 9, KVNR: "B123456781", Relation: store.RelationMember}
)

func child(birth string) store.Person {
	return store.Person{ID: 2, KVNR: "C123456782", Relation: store.RelationDependent, MemberKVNR: mother.KVNR, BirthDate: birth}
}

// TestBirthdayBoundary: a member acts for a child up to the day before the
// 15th birthday (German local time) and not from that day on; partial
// dates end it at the earliest day the child may turn 15.
func TestBirthdayBoundary(t *testing.T) {
	tests := []struct {
		name  string
		birth string
		now   time.Time
		want  error
	}{
		{"day before", "2011-06-15", berlin(2026, 6, 14, 23, 59), nil},
		{"the day, midnight", "2011-06-15", berlin(2026, 6, 15, 0, 0), family.ErrTurned15},
		{"the day, evening", "2011-06-15", berlin(2026, 6, 15, 20, 0), family.ErrTurned15},
		{"day after", "2011-06-15", berlin(2026, 6, 16, 12, 0), family.ErrTurned15},
		// 22:30 UTC on the 14th is already the 15th in Berlin (summer time).
		{"German day, not UTC", "2011-06-15", time.Date(2026, 6, 14, 22, 30, 0, 0, time.UTC), family.ErrTurned15},
		{"UTC evening before", "2011-06-15", time.Date(2026, 6, 14, 21, 30, 0, 0, time.UTC), nil},
		{"year only: Dec 31 before", "2011", berlin(2025, 12, 31, 23, 59), nil},
		{"year only: Jan 1", "2011", berlin(2026, 1, 1, 0, 0), family.ErrTurned15},
		{"month only: last day before", "2011-06", berlin(2026, 5, 31, 12, 0), nil},
		{"month only: first of month", "2011-06", berlin(2026, 6, 1, 0, 0), family.ErrTurned15},
		{"29 February: 27th", "2012-02-29", berlin(2027, 2, 27, 12, 0), nil},
		{"29 February: 28th of a common year", "2012-02-29", berlin(2027, 2, 28, 0, 0), family.ErrTurned15},
		{"28 February", "2012-02-28", berlin(2027, 2, 27, 12, 0), nil},
		{"no birth date", "", berlin(2026, 1, 1, 0, 0), family.ErrTurned15},
		{"young child", "2020-01-01", berlin(2026, 1, 1, 0, 0), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := family.Decide(mother, child(tt.birth), nil, family.ActionAddressChange, tt.now)
			if !errors.Is(err, tt.want) || (tt.want != nil) == (err == nil) {
				t.Fatalf("Decide(born %q, at %v) = %v, want %v", tt.birth, tt.now, err, tt.want)
			}
			if err == nil && (g.Basis != family.BasisParent || !tt.now.Before(g.Until)) {
				t.Errorf("grant = %+v, want parent until after %v", g, tt.now)
			}
		})
	}
}

// TestDecide: who may act for whom, and why not.
func TestDecide(t *testing.T) {
	now := berlin(2026, 12, 5, 15, 0)
	young := child("2018-03-01")
	grown := store.Person{ID: 3, KVNR: "D123456783", Relation: store.RelationMember, BirthDate: "1950-01-01"}
	authorised := store.Representation{ID: 7, Actor: mother.ID, Subject: grown.ID, Kind: store.KindAuthorised,
		Scope: []string{family.ActionDataView, family.ActionMailboxRead}, ValidUntil: now.Add(time.Hour)}
	ended := authorised
	ended.EndedAt = now.Add(-time.Minute)
	expired := authorised
	expired.ValidUntil = now
	otherFamily := young
	otherFamily.MemberKVNR = other.KVNR
	notDependent := young
	notDependent.Relation = store.RelationMember
	tests := []struct {
		name      string
		actor     store.Person
		subject   store.Person
		appointed []store.Representation
		action    string
		want      error
		basis     family.Basis
	}{
		{"parent: address", mother, young, nil, family.ActionAddressChange, nil, family.BasisParent},
		{"parent: mailbox", mother, young, nil, family.ActionMailboxWrite, nil, family.BasisParent},
		{"another family's child", other, young, nil, family.ActionDataView, family.ErrNotLinked, ""},
		{"child linked elsewhere", mother, otherFamily, nil, family.ActionDataView, family.ErrNotLinked, ""},
		{"a member is no dependent", mother, notDependent, nil, family.ActionDataView, family.ErrNotLinked, ""},
		{"oneself", mother, mother, nil, family.ActionDataView, family.ErrNotLinked, ""},
		{"the child for the parent", young, mother, nil, family.ActionDataView, family.ErrNotLinked, ""},
		{"appointed, in scope", mother, grown, []store.Representation{authorised}, family.ActionMailboxRead, nil, family.BasisAuthorised},
		{"appointed, beyond scope", mother, grown, []store.Representation{authorised}, family.ActionAddressChange, family.ErrOutOfScope, ""},
		{"appointed, ended", mother, grown, []store.Representation{ended}, family.ActionDataView, family.ErrEnded, ""},
		{"appointed, at the end date", mother, grown, []store.Representation{expired}, family.ActionDataView, family.ErrEnded, ""},
		{"appointed for someone else", other, grown, []store.Representation{authorised}, family.ActionDataView, family.ErrNotLinked, ""},
		{"unknown action", mother, young, nil, "bank.change", family.ErrUnknownAction, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := family.Decide(tt.actor, tt.subject, tt.appointed, tt.action, now)
			if !errors.Is(err, tt.want) || (tt.want != nil) == (err == nil) {
				t.Fatalf("Decide = %v, want %v", err, tt.want)
			}
			if g.Basis != tt.basis {
				t.Errorf("basis = %q, want %q", g.Basis, tt.basis)
			}
		})
	}
}
