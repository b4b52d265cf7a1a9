package family

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/profile"
	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// Store is what the service needs of the store.
type Store interface {
	PersonByID(ctx context.Context, id store.PersonID) (store.Person, error)
	PersonByKVNR(ctx context.Context, kvnr string) (store.Person, error)
	DependentsOf(ctx context.Context, kvnr string, limit int) ([]store.Person, error)
	RepresentationsBetween(ctx context.Context, actor, subject store.PersonID) ([]store.Representation, error)
	RepresentationsOf(ctx context.Context, actor store.PersonID, now time.Time) ([]store.Representation, error)
	RepresentationsFor(ctx context.Context, subject store.PersonID) ([]store.Representation, error)
	CreateRepresentation(ctx context.Context, r store.Representation) (store.Representation, error)
	EndRepresentation(ctx context.Context, id store.RepresentationID, by string, now time.Time) (store.Representation, error)
	SearchAudit(ctx context.Context, f store.AuditFilter, limit int) ([]store.AuditEntry, error)
}

// Approvals asks the actor's phone (package approval).
type Approvals interface {
	Create(ctx context.Context, person store.PersonID, action, text string, data []byte, level, client string,
		sessionLevel session.Level) (store.Approval, error)
	Status(ctx context.Context, id string, person store.PersonID) (store.Approval, error)
}

// Profiles shows a person's data (package profile).
type Profiles interface {
	View(ctx context.Context, id store.PersonID) (profile.View, error)
}

// Sealer seals the handles that name a represented person in links
// (package seal).
type Sealer interface {
	SealFor(plaintext, aad []byte) (store.Sealed, error)
	OpenFor(s store.Sealed, aad []byte) ([]byte, error)
}

// Auditor records the acts on behalf (package audit).
type Auditor interface {
	Record(ctx context.Context, e audit.Event) error
}

// MaxDependents bounds the dependents a member's family lists.
const MaxDependents = 50

// Service answers who may act for whom, and carries out acts on behalf.
type Service struct {
	store     Store
	approvals Approvals
	profiles  Profiles
	sealer    Sealer
	audit     Auditor
	now       func() time.Time
	logger    *slog.Logger
}

// New returns a service.
func New(st Store, approvals Approvals, profiles Profiles, sealer Sealer, aud Auditor, now func() time.Time, logger *slog.Logger) *Service {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Service{store: st, approvals: approvals, profiles: profiles, sealer: sealer, audit: aud, now: now, logger: logger}
}

// Member is a person the actor may act for, or a dependent they no longer
// may (Refusal set).
type Member struct {
	Handle     string // names the person in links, for this actor only
	GivenNames string
	FamilyName string
	Basis      Basis // the first grant's basis; BasisParent for a dependent who turned 15
	Actions    []string
	Until      time.Time
	Refusal    error // ErrTurned15 for a dependent who acts alone now
}

// Name is the member's name as pages and the phone show it.
func (m Member) Name() string { return strings.TrimSpace(m.GivenNames + " " + m.FamilyName) }

// Family lists the actor's family-insured dependents (those 15 and older
// with Refusal ErrTurned15) and the persons they represent by appointment.
func (s *Service) Family(ctx context.Context, actor store.PersonID) ([]Member, error) {
	now := s.now()
	a, err := s.store.PersonByID(ctx, actor)
	if err != nil {
		return nil, fmt.Errorf("family: list: %w", err)
	}
	var out []Member
	seen := map[store.PersonID]bool{}
	add := func(p store.Person) error {
		if seen[p.ID] || p.ID == actor {
			return nil
		}
		seen[p.ID] = true
		reps, err := s.store.RepresentationsBetween(ctx, actor, p.ID)
		if err != nil {
			return fmt.Errorf("family: list: %w", err)
		}
		m := Member{GivenNames: p.GivenNames, FamilyName: p.FamilyName}
		grants, err := Grants(a, p, reps, now)
		switch {
		case errors.Is(err, ErrTurned15):
			m.Basis, m.Refusal = BasisParent, err
		case err != nil:
			return nil // an appointment that ended: no longer listed
		default:
			m.Basis, m.Until = grants[0].Basis, grants[0].Until
			for _, g := range grants {
				for _, act := range g.Actions {
					if !slices.Contains(m.Actions, act) {
						m.Actions = append(m.Actions, act)
					}
				}
			}
			m.Actions = ordered(m.Actions)
		}
		if m.Handle, err = s.handle(actor, p.ID); err != nil {
			return err
		}
		out = append(out, m)
		return nil
	}
	if a.Relation == store.RelationMember {
		deps, err := s.store.DependentsOf(ctx, a.KVNR, MaxDependents)
		if err != nil {
			return nil, fmt.Errorf("family: list: %w", err)
		}
		for _, d := range deps {
			if err := add(d); err != nil {
				return nil, err
			}
		}
	}
	reps, err := s.store.RepresentationsOf(ctx, actor, now)
	if err != nil {
		return nil, fmt.Errorf("family: list: %w", err)
	}
	for _, r := range reps {
		p, err := s.store.PersonByID(ctx, r.Subject)
		if err != nil {
			return nil, fmt.Errorf("family: list: %w", err)
		}
		if err := add(p); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ordered returns the actions in the order of Actions.
func ordered(actions []string) []string {
	var out []string
	for _, a := range Actions {
		if slices.Contains(actions, a) {
			out = append(out, a)
		}
	}
	return out
}

// handle seals the subject's id for the actor: a handle works only in the
// actor's own requests and reveals nothing (the person id is never shown).
func (s *Service) handle(actor, subject store.PersonID) (string, error) {
	sealed, err := s.sealer.SealFor([]byte(strconv.FormatInt(int64(subject), 10)), seal.Place("family", "handle", actor.Ref()))
	if err != nil {
		return "", fmt.Errorf("family: handle: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString([]byte(sealed.KeyID)) + "." + base64.RawURLEncoding.EncodeToString(sealed.Ciphertext), nil
}

// subjectOf opens a handle of the actor. Any handle that does not open, or
// that another actor got, is ErrNotLinked.
func (s *Service) subjectOf(actor store.PersonID, handle string) (store.PersonID, error) {
	if len(handle) > 512 {
		return 0, ErrNotLinked
	}
	k, c, ok := strings.Cut(handle, ".")
	keyID, err1 := base64.RawURLEncoding.DecodeString(k)
	ct, err2 := base64.RawURLEncoding.DecodeString(c)
	if !ok || err1 != nil || err2 != nil || len(keyID) == 0 || len(ct) == 0 {
		return 0, ErrNotLinked
	}
	plain, err := s.sealer.OpenFor(store.Sealed{KeyID: string(keyID), Ciphertext: ct}, seal.Place("family", "handle", actor.Ref()))
	if err != nil {
		return 0, ErrNotLinked
	}
	id, err := strconv.ParseInt(string(plain), 10, 64)
	if err != nil || id <= 0 {
		return 0, ErrNotLinked
	}
	return store.PersonID(id), nil
}

// Representation says whether actor may do action for subject at now: the
// grant, or a refusal (ErrNotLinked also for an unknown person).
func (s *Service) Representation(ctx context.Context, actor, subject store.PersonID, action string, now time.Time) (Grant, error) {
	_, g, err := s.decide(ctx, actor, subject, action, now)
	return g, err
}

func (s *Service) decide(ctx context.Context, actor, subject store.PersonID, action string, now time.Time) (store.Person, Grant, error) {
	a, err := s.store.PersonByID(ctx, actor)
	if err != nil {
		return store.Person{}, Grant{}, fmt.Errorf("family: actor: %w", err)
	}
	p, err := s.store.PersonByID(ctx, subject)
	if errors.Is(err, store.ErrNotFound) {
		return store.Person{}, Grant{}, ErrNotLinked
	}
	if err != nil {
		return store.Person{}, Grant{}, fmt.Errorf("family: subject: %w", err)
	}
	reps, err := s.store.RepresentationsBetween(ctx, actor, subject)
	if err != nil {
		return store.Person{}, Grant{}, fmt.Errorf("family: representations: %w", err)
	}
	g, err := Decide(a, p, reps, action, now)
	return p, g, err
}

// Subject is a person acted for, as an act on behalf sees them.
type Subject struct {
	ID     store.PersonID
	Name   string
	Handle string
	Grant  Grant
}

// Act checks that actor may do action for the person the handle names, at
// a session of level, and records the act with both persons. Every act on
// behalf starts here but the address change, which RequestAddressChange
// checks and records itself. A refusal is recorded too, and changes nothing.
func (s *Service) Act(ctx context.Context, actor store.PersonID, handle, action string, level session.Level) (Subject, error) {
	if level.Rank() < session.LevelSubstantial.Rank() {
		return Subject{}, approval.ErrSessionLevel
	}
	id, err := s.subjectOf(actor, handle)
	if err != nil {
		s.record(ctx, actor, 0, "family.refused", map[string]any{"action": action, "reason": "handle"})
		return Subject{}, err
	}
	p, g, err := s.decide(ctx, actor, id, action, s.now())
	if err != nil {
		if r := reason(err); r != "" {
			s.record(ctx, actor, id, "family.refused", map[string]any{"action": action, "reason": r})
		}
		return Subject{}, err
	}
	d := map[string]any{"action": action, "basis": string(g.Basis)}
	if g.Representation != 0 {
		d["representation"] = int64(g.Representation)
	}
	s.record(ctx, actor, id, "family.acted", d)
	return Subject{ID: id, Name: strings.TrimSpace(p.GivenNames + " " + p.FamilyName), Handle: handle, Grant: g}, nil
}

// reason names a refusal in the audit trail; "" for an internal failure.
func reason(err error) string {
	switch {
	case errors.Is(err, ErrNotLinked):
		return "not_linked"
	case errors.Is(err, ErrTurned15):
		return "turned_15"
	case errors.Is(err, ErrEnded):
		return "ended"
	case errors.Is(err, ErrOutOfScope):
		return "out_of_scope"
	case errors.Is(err, ErrUnknownAction):
		return "unknown_action"
	}
	return ""
}

func (s *Service) record(ctx context.Context, actor, subject store.PersonID, event string, details map[string]any) {
	e := audit.Event{Actor: actor.Ref(), Event: event, Details: details}
	if subject != 0 {
		e.Subject = subject.Ref()
	}
	if err := s.audit.Record(ctx, e); err != nil {
		s.logger.ErrorContext(ctx, "audit record", slog.String("event", event), slog.Any("error", err))
	}
}

// View returns the data of the person the handle names, for the actor.
func (s *Service) View(ctx context.Context, actor store.PersonID, handle string, level session.Level) (Subject, profile.View, error) {
	sub, err := s.Act(ctx, actor, handle, ActionDataView, level)
	if err != nil {
		return Subject{}, profile.View{}, err
	}
	v, err := s.profiles.View(ctx, sub.ID)
	if err != nil {
		return Subject{}, profile.View{}, fmt.Errorf("family: view: %w", err)
	}
	return sub, v, nil
}

// changeData is what the actor's phone approves for an address change on
// behalf: whose address (the subject's person id, as the executor needs it)
// and the new address.
type changeData struct {
	Subject store.PersonID  `json:"subject"`
	Address profile.Address `json:"address"`
}

// ApprovalText is what the actor's phone shows for an address change on
// behalf: it names the person acted for and the ground.
func ApprovalText(basis Basis, name string, a profile.Address) string {
	who := "Für " + name
	switch basis {
	case BasisParent:
		who = "Für Ihr Kind " + name
	case BasisAuthorised:
		who += " (Vollmacht)"
	case BasisCustodian:
		who += " (Betreuung)"
	}
	return who + " – neue Anschrift: " + strings.TrimSpace(a.Street+" "+a.HouseNumber) + ", " + a.PostalCode + " " + a.City
}

// RequestAddressChange asks the ACTOR's phone to approve a new address for
// the person the handle names; when approved, the executor (Executors)
// checks the representation again and changes that person's address, with
// the notice to their old address.
func (s *Service) RequestAddressChange(ctx context.Context, actor store.PersonID, handle string, a profile.Address, client string,
	level session.Level) (store.Approval, error) {
	a, err := profile.CheckAddress(a)
	if err != nil {
		return store.Approval{}, err
	}
	if level.Rank() < session.LevelSubstantial.Rank() {
		return store.Approval{}, approval.ErrSessionLevel
	}
	id, err := s.subjectOf(actor, handle)
	if err != nil {
		return store.Approval{}, err
	}
	p, g, err := s.decide(ctx, actor, id, ActionAddressChange, s.now())
	if err != nil {
		if r := reason(err); r != "" {
			s.record(ctx, actor, id, "family.refused", map[string]any{"action": ActionAddressChange, "reason": r})
		}
		return store.Approval{}, err
	}
	data, err := json.Marshal(changeData{Subject: id, Address: a})
	if err != nil {
		return store.Approval{}, err
	}
	text := ApprovalText(g.Basis, strings.TrimSpace(p.GivenNames+" "+p.FamilyName), a)
	ap, err := s.approvals.Create(ctx, actor, ApprovalAction, text, data, "", client, level)
	if err != nil {
		return store.Approval{}, err
	}
	d := map[string]any{"action": ActionAddressChange, "basis": string(g.Basis), "approval": ap.ID}
	if g.Representation != 0 {
		d["representation"] = int64(g.Representation)
	}
	s.record(ctx, actor, id, "family.acted", d)
	return ap, nil
}

// Status returns the actor's request as it stands; it only reads.
func (s *Service) Status(ctx context.Context, approvalID string, actor store.PersonID) (store.Approval, error) {
	return s.approvals.Status(ctx, approvalID, actor)
}

// Executors returns the executor of family.address_change for package
// approval. In the approving transaction it checks the representation again
// at the moment of approval (a child who turned 15 or an appointment that
// ended since the request stops it: nothing changes and the request stays
// pending until it expires), then changes the subject's address through
// change (profile.NewAddressChanger).
func Executors(change profile.AddressChanger) approval.Executors {
	return approval.Executors{ApprovalAction: approval.ExecutorFunc(func(ctx context.Context, tx store.ApprovalTx, a store.Approval) error {
		var d changeData
		if err := json.Unmarshal(a.Data, &d); err != nil {
			return fmt.Errorf("family: address change: %w", err)
		}
		actor, err := tx.PersonByID(ctx, a.PersonID)
		if err != nil {
			return fmt.Errorf("family: address change: %w", err)
		}
		subject, err := tx.PersonByID(ctx, d.Subject)
		if errors.Is(err, store.ErrNotFound) {
			return ErrNotLinked
		}
		if err != nil {
			return fmt.Errorf("family: address change: %w", err)
		}
		reps, err := tx.RepresentationsBetween(ctx, actor.ID, subject.ID)
		if err != nil {
			return fmt.Errorf("family: address change: %w", err)
		}
		if _, err := Decide(actor, subject, reps, ActionAddressChange, a.AnsweredAt); err != nil {
			return err
		}
		return change(ctx, tx, a, subject.ID, d.Address)
	})}
}
