// Package family owns who may act for whom: a member for the
// family-insured children under 15 that the master data links to them
// (gesetzliche Vertretung), and the representatives staff appointed
// (Bevollmächtigte, Betreuer/innen) within their scope and until their end.
// Every act on behalf goes through Decide, at the time it happens, and is
// recorded in the audit trail with both persons (actor and subject); the
// person acted for sees these entries once they have access (Acts).
//
// The legal representation of a child is computed, never stored:
//
//	dependent linked to the member (relation dependent, member_kvnr = member's KVNR)
//	  day < 15th birthday (German local date) ──▶ the member may act: every action
//	  day ≥ 15th birthday                      ──▶ refused (ErrTurned15); the child
//	                                               requests own access
//
// A partial birth date ends it at the earliest day the child may turn 15
// (year only: 1 January, year and month: the 1st of that month, fifteen
// years on), so it never lasts past the real birthday; a child born on 29
// February is 15 on 28 February of a common year (one day early, like a
// partial date); a dependent without a birth date cannot be represented.
//
// An appointed representation is a store.Representation: its actions are its
// Scope, it holds while now is before ValidUntil and it was not ended.
//
// What it does not own: the acts themselves (package profile changes the
// address, package mailbox keeps the messages, package approval asks the
// phone), HTTP (package familyapi) or the master data (package registry).
package family

import (
	"errors"
	"slices"
	"time"

	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/registry"
	"github.com/pforte/pforte/internal/store"
)

// The actions one person may do for another.
const (
	ActionDataView      = "data.view"      // see name, address, bank account (masked)
	ActionAddressChange = "address.change" // change the address (approved on the actor's phone)
	ActionMailboxRead   = "mailbox.read"   // read the mailbox
	ActionMailboxWrite  = "mailbox.write"  // write and answer in the mailbox
)

// Actions lists every action, in the order pages show them.
var Actions = []string{ActionDataView, ActionAddressChange, ActionMailboxRead, ActionMailboxWrite}

// ApprovalAction is the approval action of an address change on behalf: the
// actor's phone approves it, its executor changes the subject's address.
const ApprovalAction = approval.ActionFamilyAddressChange

// ReprAge is the age from which a dependent acts alone.
const ReprAge = 15

// Refusals of Decide. Each says why one person may not act for another.
var (
	// ErrNotLinked: no representation: not the member's dependent, no
	// appointment (also for a person that does not exist, which looks the
	// same).
	ErrNotLinked = errors.New("family: not represented")
	// ErrTurned15: the dependent is 15 or older (or the birth date is
	// unknown): they act for themselves.
	ErrTurned15 = errors.New("family: dependent is 15 or older")
	// ErrEnded: the appointed representation has ended or run out.
	ErrEnded = errors.New("family: representation ended")
	// ErrOutOfScope: the appointed representation does not cover the action.
	ErrOutOfScope = errors.New("family: action not in the representation's scope")
	// ErrUnknownAction: no such action.
	ErrUnknownAction = errors.New("family: unknown action")
)

// Basis is the ground a person acts on.
type Basis string

// The grounds of a representation.
const (
	BasisParent     Basis = "parent"                    // gesetzliche Vertretung of a child under 15
	BasisAuthorised       = Basis(store.KindAuthorised) // Vollmacht
	BasisCustodian        = Basis(store.KindCustodian)  // Betreuung
)

// Grant is an allowed representation: on which basis, for which actions,
// until when (exclusive).
type Grant struct {
	Basis          Basis
	Representation store.RepresentationID // for an appointed one
	Actions        []string
	Until          time.Time
}

// Allows reports whether the grant covers action.
func (g Grant) Allows(action string) bool { return slices.Contains(g.Actions, action) }

// FifteenthBirthday returns the first day (midnight, German local time) on
// which a person born on birthDate ("YYYY-MM-DD", "YYYY-MM" or "YYYY") counts
// as 15, read conservatively (see the package comment); false when the birth
// date says nothing.
func FifteenthBirthday(birthDate string) (time.Time, bool) {
	// The master data was checked on import; a date "in the future" here
	// is only a date the import allowed, so parse against a far day.
	d, err := registry.ParseBirthDate(birthDate, time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC))
	if err != nil || d.IsZero() {
		return time.Time{}, false
	}
	y, m, day := d.Year()+ReprAge, d.Month(), d.Day()
	switch d.Precision() {
	case registry.PrecisionYear:
		m, day = time.January, 1
	case registry.PrecisionMonth:
		day = 1
	}
	if m == time.February && day == 29 && time.Date(y, time.February, 29, 0, 0, 0, 0, time.UTC).Month() != time.February {
		day = 28
	}
	return time.Date(y, m, day, 0, 0, 0, 0, lang.Berlin), true
}

// parentLinked reports whether subject is actor's family-insured dependent.
func parentLinked(actor, subject store.Person) bool {
	return subject.Relation == store.RelationDependent && subject.MemberKVNR != "" && actor.KVNR != "" &&
		subject.MemberKVNR == actor.KVNR && actor.ID != subject.ID
}

// Grants returns every representation actor holds for subject at now, and
// why there is none (the most telling refusal) when there is none.
func Grants(actor, subject store.Person, appointed []store.Representation, now time.Time) ([]Grant, error) {
	var grants []Grant
	refusal := ErrNotLinked
	if actor.ID == 0 || subject.ID == 0 || actor.ID == subject.ID {
		return nil, ErrNotLinked
	}
	if parentLinked(actor, subject) {
		until, ok := FifteenthBirthday(subject.BirthDate)
		if ok && now.Before(until) {
			grants = append(grants, Grant{Basis: BasisParent, Actions: slices.Clone(Actions), Until: until})
		} else {
			refusal = ErrTurned15
		}
	}
	for _, r := range appointed {
		if r.Actor != actor.ID || r.Subject != subject.ID {
			continue
		}
		if !r.EndedAt.IsZero() || !now.Before(r.ValidUntil) {
			if refusal == ErrNotLinked {
				refusal = ErrEnded
			}
			continue
		}
		grants = append(grants, Grant{Basis: Basis(r.Kind), Representation: r.ID, Actions: slices.Clone(r.Scope), Until: r.ValidUntil})
	}
	if len(grants) == 0 {
		return nil, refusal
	}
	return grants, nil
}

// Decide says whether actor may do action for subject at now, given the
// appointed representations between them: the grant that allows it, or a
// refusal (ErrNotLinked, ErrTurned15, ErrEnded, ErrOutOfScope,
// ErrUnknownAction). This is the one check every act on behalf passes.
func Decide(actor, subject store.Person, appointed []store.Representation, action string, now time.Time) (Grant, error) {
	if !slices.Contains(Actions, action) {
		return Grant{}, ErrUnknownAction
	}
	grants, err := Grants(actor, subject, appointed, now)
	if err != nil {
		return Grant{}, err
	}
	for _, g := range grants {
		if g.Allows(action) {
			return g, nil
		}
	}
	return Grant{}, ErrOutOfScope
}
