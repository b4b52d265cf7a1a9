package familyapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pforte/pforte/internal/answer"
	"github.com/pforte/pforte/internal/family"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/store"
)

// Appointments is the staff side of the family service (family.Service).
type Appointments interface {
	Appoint(ctx context.Context, ap family.Appointment) (store.Representation, error)
	EndAppointment(ctx context.Context, id store.RepresentationID, by string) (store.Representation, error)
	Appointments(ctx context.Context, kvnr string) ([]store.Representation, error)
}

// MinStaffToken is the shortest staff token accepted (as the mailbox's
// staff API).
const MinStaffToken = 32

// Staff serves the staff routes: recording and ending appointed
// representatives. Every call carries the staff token of the configuration
// as a bearer token and names its author.
type Staff struct {
	token  string
	family Appointments
	logger *slog.Logger
	mux    *http.ServeMux
}

// NewStaff returns the staff routes; without a token of at least
// MinStaffToken characters there are none.
func NewStaff(token string, f Appointments, logger *slog.Logger) *Staff {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Staff{token: token, family: f, logger: logger}
	s.mux = newMux(s.Routes())
	return s
}

// ServeHTTP serves the routes, for tests.
func (s *Staff) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// tokenMatches compares a presented token with the configured one in
// constant time (hashes first, so the length leaks nothing either).
func tokenMatches(presented, want string) bool {
	if want == "" {
		return false
	}
	a, b := sha256.Sum256([]byte(presented)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

func (s *Staff) staff(h func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		var err error
		if !ok || !strings.EqualFold(scheme, "Bearer") || len(tok) > 512 || !tokenMatches(tok, s.token) {
			err = errUnauthenticated
		} else {
			err = h(w, r)
		}
		if err != nil {
			fail(w, r, s.logger, err)
		}
	})
}

// representationJSON is an appointed representation as staff see it.
type representationJSON struct {
	ID          int64      `json:"id"`
	ActorKVNR   string     `json:"actor_kvnr,omitempty"`
	SubjectKVNR string     `json:"subject_kvnr,omitempty"`
	Kind        string     `json:"kind"`
	Scope       []string   `json:"scope"`
	ValidUntil  time.Time  `json:"valid_until"`
	RecordedBy  string     `json:"recorded_by"`
	CreatedAt   time.Time  `json:"created_at"`
	EndedAt     *time.Time `json:"ended_at,omitempty"`
	EndedBy     string     `json:"ended_by,omitempty"`
}

func representationOf(r store.Representation) representationJSON {
	out := representationJSON{ID: int64(r.ID), Kind: string(r.Kind), Scope: r.Scope, ValidUntil: r.ValidUntil.UTC(),
		RecordedBy: r.RecordedBy, CreatedAt: r.CreatedAt.UTC(), EndedBy: r.EndedBy}
	if !r.EndedAt.IsZero() {
		e := r.EndedAt.UTC()
		out.EndedAt = &e
	}
	return out
}

type appointRequest struct {
	ActorKVNR   string   `json:"actor_kvnr"`
	SubjectKVNR string   `json:"subject_kvnr"`
	Kind        string   `json:"kind"`
	Scope       []string `json:"scope"`
	// ValidUntil is the last day (YYYY-MM-DD, German calendar) the
	// representation holds: it ends at the following midnight.
	ValidUntil string `json:"valid_until"`
	Author     string `json:"author"`
}

// lastDay parses a last day of validity into the exclusive end: the
// following midnight, German local time.
func lastDay(s string) (time.Time, error) {
	d, err := time.ParseInLocation("2006-01-02", s, lang.Berlin)
	if err != nil || d.Format("2006-01-02") != s {
		return time.Time{}, &answer.Bad{Message: "„valid_until“ ist der letzte gültige Tag im Format JJJJ-MM-TT."}
	}
	return d.AddDate(0, 0, 1), nil
}

func (s *Staff) appoint(w http.ResponseWriter, r *http.Request) error {
	var req appointRequest
	if err := decodeJSON(w, r, bodyLimit, &req); err != nil {
		return err
	}
	until, err := lastDay(req.ValidUntil)
	if err != nil {
		return err
	}
	if len(req.Scope) > 16 {
		return &answer.Bad{Message: "Der Umfang nennt zu viele Aktionen."}
	}
	rep, err := s.family.Appoint(r.Context(), family.Appointment{ActorKVNR: req.ActorKVNR, SubjectKVNR: req.SubjectKVNR,
		Kind: store.RepresentationKind(req.Kind), Scope: req.Scope, ValidUntil: until, By: req.Author})
	if err != nil {
		return err
	}
	out := representationOf(rep)
	out.ActorKVNR, out.SubjectKVNR = req.ActorKVNR, req.SubjectKVNR
	writeJSON(w, http.StatusCreated, out)
	return nil
}

type endRequest struct {
	Author string `json:"author"`
}

func (s *Staff) end(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return family.ErrRepresentationNotFound
	}
	var req endRequest
	if err := decodeJSON(w, r, bodyLimit, &req); err != nil {
		return err
	}
	rep, err := s.family.EndAppointment(r.Context(), store.RepresentationID(id), req.Author)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, representationOf(rep))
	return nil
}

func (s *Staff) list(w http.ResponseWriter, r *http.Request) error {
	reps, err := s.family.Appointments(r.Context(), r.URL.Query().Get("kvnr"))
	if err != nil {
		return err
	}
	out := struct {
		Representations []representationJSON `json:"representations"`
	}{Representations: []representationJSON{}}
	for _, rep := range reps {
		out.Representations = append(out.Representations, representationOf(rep))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
