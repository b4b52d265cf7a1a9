package family

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/field"
	"github.com/pforte/pforte/internal/registry"
	"github.com/pforte/pforte/internal/store"
)

// ErrRepresentationNotFound: no appointed representation with this id.
var ErrRepresentationNotFound = errors.New("family: no such representation")

// ErrAlreadyEnded: the representation was ended before.
var ErrAlreadyEnded = errors.New("family: representation already ended")

// MaxValidity bounds how far ahead an appointment may run.
const MaxValidity = 30 * 366 * 24 * time.Hour

// Appointment is what staff record for a representative.
type Appointment struct {
	ActorKVNR   string
	SubjectKVNR string
	Kind        store.RepresentationKind
	Scope       []string
	ValidUntil  time.Time
	// By is who records it: the staff member's name or login as the staff
	// API names its author.
	By string
}

// checkBy bounds the author's name.
func checkBy(by string) (string, *field.Error) {
	by = strings.TrimSpace(by)
	if by == "" || utf8.RuneCountInString(by) > 64 || !utf8.ValidString(by) ||
		strings.ContainsFunc(by, func(r rune) bool { return r < 0x20 || r == 0x7f }) || registry.ValidKVNR(by) {
		return "", field.Invalid("author", "Bitte geben Sie an, wer die Vertretung einträgt (1 bis 64 Zeichen).")
	}
	return "staff:" + by, nil
}

// Appoint records an appointed representative: the actor may act for the
// subject within the scope until ValidUntil. Every problem of the input is
// reported at once (field.Errors); staff learn whether a KVNR exists.
func (s *Service) Appoint(ctx context.Context, ap Appointment) (store.Representation, error) {
	now := s.now()
	var errs field.Errors
	by, byErr := checkBy(ap.By)
	if byErr != nil {
		errs = append(errs, byErr)
	}
	person := func(name, kvnr string) store.Person {
		if registry.CheckKVNR(kvnr) != nil {
			errs = append(errs, field.Invalid(name, "Bitte geben Sie eine Krankenversichertennummer an (ein Buchstabe und neun Ziffern)."))
			return store.Person{}
		}
		p, err := s.store.PersonByKVNR(ctx, kvnr)
		if err != nil {
			if !errors.Is(err, store.ErrNotFound) {
				errs = append(errs, field.Invalid(name, "Die versicherte Person kann gerade nicht gelesen werden; bitte versuchen Sie es noch einmal."))
			} else {
				errs = append(errs, field.Invalid(name, "Zu dieser Versichertennummer gibt es keine versicherte Person."))
			}
		}
		return p
	}
	actor, subject := person("actor_kvnr", ap.ActorKVNR), person("subject_kvnr", ap.SubjectKVNR)
	if actor.ID != 0 && actor.ID == subject.ID {
		errs = append(errs, field.Invalid("subject_kvnr", "Eine Person kann sich nicht selbst vertreten."))
	}
	if ap.Kind != store.KindAuthorised && ap.Kind != store.KindCustodian {
		errs = append(errs, field.Invalid("kind", "Die Art ist „bevollmaechtigt“ (Vollmacht) oder „betreuer“ (Betreuung)."))
	}
	scope := slices.Clone(ap.Scope)
	slices.Sort(scope)
	scope = slices.Compact(scope)
	if len(scope) == 0 || slices.ContainsFunc(scope, func(a string) bool { return !slices.Contains(Actions, a) }) {
		errs = append(errs, field.Invalid("scope", "Der Umfang ist eine Liste aus "+strings.Join(Actions, ", ")+"."))
	}
	if !ap.ValidUntil.After(now) || ap.ValidUntil.After(now.Add(MaxValidity)) {
		errs = append(errs, field.Invalid("valid_until", "Das Ende muss in der Zukunft liegen, höchstens 30 Jahre ab heute."))
	}
	if err := errs.Err(); err != nil {
		return store.Representation{}, err
	}
	r, err := s.store.CreateRepresentation(ctx, store.Representation{Actor: actor.ID, Subject: subject.ID, Kind: ap.Kind, Scope: scope,
		ValidUntil: ap.ValidUntil.UTC().Truncate(time.Microsecond), RecordedBy: by, CreatedAt: now.UTC().Truncate(time.Microsecond)})
	if err != nil {
		return store.Representation{}, fmt.Errorf("family: appoint: %w", err)
	}
	s.staffRecord(ctx, by, "family.representation_recorded", r)
	return r, nil
}

// EndAppointment ends an appointed representation now.
func (s *Service) EndAppointment(ctx context.Context, id store.RepresentationID, by string) (store.Representation, error) {
	who, byErr := checkBy(by)
	if byErr != nil {
		return store.Representation{}, byErr
	}
	r, err := s.store.EndRepresentation(ctx, id, who, s.now().UTC().Truncate(time.Microsecond))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.Representation{}, ErrRepresentationNotFound
	case errors.Is(err, store.ErrConflict):
		return store.Representation{}, ErrAlreadyEnded
	case err != nil:
		return store.Representation{}, fmt.Errorf("family: end appointment: %w", err)
	}
	s.staffRecord(ctx, who, "family.representation_ended", r)
	return r, nil
}

// Appointments lists every representation recorded for the person with
// the KVNR, ended ones included.
func (s *Service) Appointments(ctx context.Context, kvnr string) ([]store.Representation, error) {
	if registry.CheckKVNR(kvnr) != nil {
		return nil, field.Invalid("kvnr", "Bitte geben Sie eine Krankenversichertennummer an (ein Buchstabe und neun Ziffern).")
	}
	p, err := s.store.PersonByKVNR(ctx, kvnr)
	if errors.Is(err, store.ErrNotFound) {
		return nil, field.Invalid("kvnr", "Zu dieser Versichertennummer gibt es keine versicherte Person.")
	}
	if err != nil {
		return nil, fmt.Errorf("family: appointments: %w", err)
	}
	return s.store.RepresentationsFor(ctx, p.ID)
}

func (s *Service) staffRecord(ctx context.Context, by, event string, r store.Representation) {
	e := audit.Event{Actor: by, Event: event, Subject: r.Subject.Ref(), Details: map[string]any{
		"representation": int64(r.ID), "representative": r.Actor.Ref(), "kind": string(r.Kind),
		"scope": r.Scope, "valid_until": r.ValidUntil.Format(time.RFC3339)}}
	if err := s.audit.Record(ctx, e); err != nil {
		s.logger.ErrorContext(ctx, "audit record", slog.String("event", event), slog.Any("error", err))
	}
}
