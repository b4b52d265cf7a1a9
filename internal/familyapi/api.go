package familyapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/pforte/pforte/internal/family"
	"github.com/pforte/pforte/internal/mailbox"
	"github.com/pforte/pforte/internal/profile"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// Family is the family service (family.Service).
type Family interface {
	Family(ctx context.Context, actor store.PersonID) ([]family.Member, error)
	Acts(ctx context.Context, subject store.PersonID) ([]family.Act, error)
	Act(ctx context.Context, actor store.PersonID, handle, action string, level session.Level) (family.Subject, error)
	View(ctx context.Context, actor store.PersonID, handle string, level session.Level) (family.Subject, profile.View, error)
	RequestAddressChange(ctx context.Context, actor store.PersonID, handle string, a profile.Address, client string,
		level session.Level) (store.Approval, error)
	Status(ctx context.Context, approvalID string, actor store.PersonID) (store.Approval, error)
}

// Mailbox is the represented person's mailbox (mailbox.Service); family
// has checked the representation before any call.
type Mailbox interface {
	Overview(ctx context.Context, person store.PersonID, level session.Level, q mailbox.Query) (mailbox.Overview, error)
	Open(ctx context.Context, person store.PersonID, level session.Level, id string) (mailbox.Thread, error)
	Write(ctx context.Context, person store.PersonID, level session.Level, subject, text string, ups []mailbox.Upload) (string, error)
}

// Sessions checks the API's bearer tokens (package session).
type Sessions interface {
	Authenticate(ctx context.Context, tok session.Token) (store.Session, error)
}

// API serves the person's JSON routes under /api/v1/family.
type API struct {
	family   Family
	mailbox  Mailbox
	sessions Sessions
	logger   *slog.Logger
	mux      *http.ServeMux
}

// NewAPI returns the person's JSON routes.
func NewAPI(f Family, mb Mailbox, sessions Sessions, logger *slog.Logger) *API {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	a := &API{family: f, mailbox: mb, sessions: sessions, logger: logger}
	a.mux = newMux(a.Routes())
	return a
}

// ServeHTTP serves the routes, for tests.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

func newMux(routes map[string]http.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	for p, h := range routes {
		mux.Handle(p, h)
	}
	return mux
}

type sessionFunc func(w http.ResponseWriter, r *http.Request, s store.Session) error

// session runs h with the live session of the request's bearer token.
func (a *API) session(h sessionFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := func() error {
			scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
			if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" || len(tok) > 128 {
				return errUnauthenticated
			}
			s, err := a.sessions.Authenticate(r.Context(), session.Token(tok))
			if errors.Is(err, session.ErrNoSession) {
				return errUnauthenticated
			}
			if err != nil {
				return err
			}
			if s.MustChangePassword {
				return errPasswordChangeDue
			}
			return h(w, r, s)
		}()
		if err != nil {
			fail(w, r, a.logger, err)
		}
	})
}

// memberJSON is a person one may act for.
type memberJSON struct {
	Handle     string     `json:"handle"`
	GivenNames string     `json:"given_names"`
	FamilyName string     `json:"family_name"`
	Basis      string     `json:"basis"`
	Actions    []string   `json:"actions"`
	Until      *time.Time `json:"until,omitempty"`
	// Refusal is "representation_turned_15" for a dependent who acts alone now.
	Refusal string `json:"refusal,omitempty"`
}

// actJSON is one act someone did on the caller's behalf.
type actJSON struct {
	At       time.Time `json:"at"`
	By       string    `json:"by"`
	Basis    string    `json:"basis"`
	Action   string    `json:"action"`
	Approval string    `json:"approval,omitempty"`
}

func (a *API) list(w http.ResponseWriter, r *http.Request, s store.Session) error {
	members, err := a.family.Family(r.Context(), s.PersonID)
	if err != nil {
		return err
	}
	acts, err := a.family.Acts(r.Context(), s.PersonID)
	if err != nil {
		return err
	}
	out := struct {
		Members []memberJSON `json:"members"`
		Acts    []actJSON    `json:"acts_for_you"`
	}{Members: []memberJSON{}, Acts: []actJSON{}}
	for _, m := range members {
		mj := memberJSON{Handle: m.Handle, GivenNames: m.GivenNames, FamilyName: m.FamilyName, Basis: string(m.Basis), Actions: m.Actions}
		if mj.Actions == nil {
			mj.Actions = []string{}
		}
		if !m.Until.IsZero() {
			u := m.Until.UTC()
			mj.Until = &u
		}
		if errors.Is(m.Refusal, family.ErrTurned15) {
			mj.Refusal = "representation_turned_15"
		}
		out.Members = append(out.Members, mj)
	}
	for _, act := range acts {
		out.Acts = append(out.Acts, actJSON{At: act.At.UTC(), By: act.By, Basis: string(act.Basis), Action: act.Action, Approval: act.Approval})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// personalJSON is the data of a represented person.
type personalJSON struct {
	Title           string          `json:"title,omitempty"`
	GivenNames      string          `json:"given_names"`
	FamilyName      string          `json:"family_name"`
	Address         profile.Address `json:"address"`
	AddressVerified bool            `json:"address_verified"`
	IBANMasked      string          `json:"iban_masked,omitempty"`
	Basis           string          `json:"basis"`
	Actions         []string        `json:"actions"`
}

func (a *API) view(w http.ResponseWriter, r *http.Request, s store.Session) error {
	sub, v, err := a.family.View(r.Context(), s.PersonID, r.PathValue("handle"), session.Level(s.Level))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, personalJSON{Title: v.Title, GivenNames: v.GivenNames, FamilyName: v.FamilyName, Address: v.Address,
		AddressVerified: v.AddressVerified, IBANMasked: v.IBANMasked, Basis: string(sub.Grant.Basis), Actions: sub.Grant.Actions})
	return nil
}

// approvalJSON is an address change request on behalf.
type approvalJSON struct {
	ID        string    `json:"approval_id"`
	Status    string    `json:"status"`
	Text      string    `json:"text"`
	ExpiresAt time.Time `json:"expires_at"`
}

func approvalOf(ap store.Approval) approvalJSON {
	return approvalJSON{ID: ap.ID, Status: string(ap.Status), Text: ap.Text, ExpiresAt: ap.ExpiresAt.UTC()}
}

func (a *API) address(w http.ResponseWriter, r *http.Request, s store.Session) error {
	var addr profile.Address
	if err := decodeJSON(w, r, bodyLimit, &addr); err != nil {
		return err
	}
	ap, err := a.family.RequestAddressChange(r.Context(), s.PersonID, r.PathValue("handle"), addr, "api", session.Level(s.Level))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, approvalOf(ap))
	return nil
}

func (a *API) status(w http.ResponseWriter, r *http.Request, s store.Session) error {
	ap, err := a.family.Status(r.Context(), r.PathValue("id"), s.PersonID)
	if err != nil {
		return err
	}
	if ap.Action != family.ApprovalAction {
		return family.ErrNotLinked
	}
	writeJSON(w, http.StatusOK, approvalOf(ap))
	return nil
}

// threadSummaryJSON is a thread of a represented person's mailbox.
type threadSummaryJSON struct {
	ID       string    `json:"id"`
	Subject  string    `json:"subject"`
	Unread   int       `json:"unread"`
	Messages int       `json:"message_count"`
	LastAt   time.Time `json:"last_at"`
}

func (a *API) mailboxList(w http.ResponseWriter, r *http.Request, s store.Session) error {
	sub, err := a.family.Act(r.Context(), s.PersonID, r.PathValue("handle"), family.ActionMailboxRead, session.Level(s.Level))
	if err != nil {
		return err
	}
	ov, err := a.mailbox.Overview(r.Context(), sub.ID, session.Level(s.Level), mailbox.Query{After: r.URL.Query().Get("after")})
	if err != nil {
		return err
	}
	out := struct {
		Unread  int                 `json:"unread"`
		Threads []threadSummaryJSON `json:"threads"`
		Next    string              `json:"next,omitempty"`
	}{Unread: ov.Unread, Threads: []threadSummaryJSON{}, Next: ov.Next}
	for _, t := range ov.Threads {
		out.Threads = append(out.Threads, threadSummaryJSON{ID: t.ID, Subject: t.Subject, Unread: t.Unread, Messages: t.Messages, LastAt: t.LastAt.UTC()})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// messageJSON is a message of a represented person's thread.
type messageJSON struct {
	ID         string    `json:"id"`
	FromPerson bool      `json:"from_person"`
	Text       string    `json:"text"`
	At         time.Time `json:"at"`
}

func (a *API) mailboxThread(w http.ResponseWriter, r *http.Request, s store.Session) error {
	sub, err := a.family.Act(r.Context(), s.PersonID, r.PathValue("handle"), family.ActionMailboxRead, session.Level(s.Level))
	if err != nil {
		return err
	}
	t, err := a.mailbox.Open(r.Context(), sub.ID, session.Level(s.Level), r.PathValue("id"))
	if err != nil {
		return err
	}
	out := struct {
		ID       string        `json:"id"`
		Subject  string        `json:"subject"`
		Messages []messageJSON `json:"messages"`
	}{ID: t.ID, Subject: t.Subject, Messages: []messageJSON{}}
	for _, m := range t.Messages {
		out.Messages = append(out.Messages, messageJSON{ID: m.ID, FromPerson: m.FromPerson, Text: m.Text, At: m.At.UTC()})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type writeRequest struct {
	Subject string `json:"subject"`
	Text    string `json:"text"`
}

func (a *API) mailboxWrite(w http.ResponseWriter, r *http.Request, s store.Session) error {
	var req writeRequest
	if err := decodeJSON(w, r, bodyLimit, &req); err != nil {
		return err
	}
	sub, err := a.family.Act(r.Context(), s.PersonID, r.PathValue("handle"), family.ActionMailboxWrite, session.Level(s.Level))
	if err != nil {
		return err
	}
	id, err := a.mailbox.Write(r.Context(), sub.ID, session.Level(s.Level), req.Subject, req.Text, nil)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, struct {
		ID string `json:"id"`
	}{ID: id})
	return nil
}
