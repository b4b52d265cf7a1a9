package mailboxapi

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/pforte/pforte/internal/mailbox"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// API serves the person's JSON routes.
type API struct {
	base
	mailbox  Mailbox
	sessions Sessions
	mux      *http.ServeMux
}

// NewAPI returns the person's JSON routes.
func NewAPI(cfg Config, mb Mailbox, sessions Sessions, logger *slog.Logger) *API {
	a := &API{base: newBase(cfg, mb.Limits(), logger), mailbox: mb, sessions: sessions}
	a.mux = newMux(a.Routes())
	return a
}

// Routes lists the person's JSON routes, for mounting on the server.
func (a *API) Routes() map[string]http.Handler {
	return map[string]http.Handler{
		"GET /api/v1/mailbox":                        a.session(a.list),
		"GET /api/v1/mailbox/search":                 a.session(a.search),
		"POST /api/v1/mailbox/threads":               a.session(a.write),
		"GET /api/v1/mailbox/threads/{id}":           a.session(a.thread),
		"POST /api/v1/mailbox/threads/{id}/messages": a.session(a.reply),
		"POST /api/v1/mailbox/threads/{id}/archive":  a.session(a.archive),
		"GET /api/v1/mailbox/attachments/{id}":       a.session(a.attachment),
	}
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
	return a.handleJSON(func(w http.ResponseWriter, r *http.Request) error {
		tok, ok := bearer(r)
		if !ok || len(tok) > 128 {
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
	})
}

// summaryJSON is a thread in a listing.
type summaryJSON struct {
	ID       string     `json:"id"`
	Subject  string     `json:"subject"`
	Notice   bool       `json:"notice"`
	Unread   int        `json:"unread"`
	Messages int        `json:"message_count"`
	LastAt   time.Time  `json:"last_at"`
	ReplyBy  *time.Time `json:"reply_by,omitempty"`
	Archived bool       `json:"archived"`
	Snippet  string     `json:"snippet,omitempty"`
}

func summaryOf(s mailbox.Summary) summaryJSON {
	out := summaryJSON{ID: s.ID, Subject: s.Subject, Notice: s.Notice, Unread: s.Unread, Messages: s.Messages,
		LastAt: s.LastAt, Archived: s.Archived}
	if !s.ReplyBy.IsZero() {
		rb := s.ReplyBy
		out.ReplyBy = &rb
	}
	return out
}

// listJSON is GET /api/v1/mailbox: below substantial only "unread" and
// "restricted".
type listJSON struct {
	Unread     int           `json:"unread"`
	Restricted bool          `json:"restricted,omitempty"`
	Threads    []summaryJSON `json:"threads,omitempty"`
	Next       string        `json:"next,omitempty"`
}

func (a *API) list(w http.ResponseWriter, r *http.Request, s store.Session) error {
	q := mailbox.Query{Archived: r.URL.Query().Get("archived") == "true", After: r.URL.Query().Get("after")}
	ov, err := a.mailbox.Overview(r.Context(), s.PersonID, session.Level(s.Level), q)
	if err != nil {
		return err
	}
	out := listJSON{Unread: ov.Unread, Restricted: ov.Restricted, Next: ov.Next}
	if !ov.Restricted {
		out.Threads = []summaryJSON{}
		for _, t := range ov.Threads {
			out.Threads = append(out.Threads, summaryOf(t))
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) search(w http.ResponseWriter, r *http.Request, s store.Session) error {
	if err := a.limited(r); err != nil { // a search opens every message
		return err
	}
	hits, err := a.mailbox.Search(r.Context(), s.PersonID, session.Level(s.Level), r.URL.Query().Get("q"))
	if err != nil {
		return err
	}
	out := struct {
		Threads []summaryJSON `json:"threads"`
	}{Threads: []summaryJSON{}}
	for _, h := range hits {
		sj := summaryOf(h.Summary)
		sj.Snippet = h.Snippet
		out.Threads = append(out.Threads, sj)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// messageJSON is a message of a thread.
type messageJSON struct {
	ID          string           `json:"id"`
	From        string           `json:"from"` // "person" or "insurer"
	Text        string           `json:"text"` // as written (Markdown for the insurer's)
	HTML        string           `json:"html"` // sanitised, ready to show
	At          time.Time        `json:"at"`
	ReadAt      *time.Time       `json:"read_at,omitempty"`
	Attachments []attachmentInfo `json:"attachments"`
}

type attachmentInfo struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
	Size int64  `json:"size"`
	URL  string `json:"url"`
}

type threadJSON struct {
	summaryJSON
	CanReply bool          `json:"can_reply"`
	Items    []messageJSON `json:"messages"`
}

func threadOf(t mailbox.Thread, attachmentURL func(id string) string) threadJSON {
	out := threadJSON{summaryJSON: summaryOf(t.Summary), CanReply: t.CanReply, Items: []messageJSON{}}
	for _, m := range t.Messages {
		mj := messageJSON{ID: m.ID, From: "insurer", Text: m.Text, HTML: string(m.HTML), At: m.At, Attachments: []attachmentInfo{}}
		if m.FromPerson {
			mj.From = "person"
		}
		if !m.ReadAt.IsZero() {
			ra := m.ReadAt
			mj.ReadAt = &ra
		}
		for _, at := range m.Attachments {
			mj.Attachments = append(mj.Attachments, attachmentInfo{ID: at.ID, Name: at.Name, Type: at.Type, Size: at.Size, URL: attachmentURL(at.ID)})
		}
		out.Items = append(out.Items, mj)
	}
	return out
}

func (a *API) thread(w http.ResponseWriter, r *http.Request, s store.Session) error {
	t, err := a.mailbox.Open(r.Context(), s.PersonID, session.Level(s.Level), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, threadOf(t, func(id string) string { return "/api/v1/mailbox/attachments/" + id }))
	return nil
}

type writeRequest struct {
	Subject     string           `json:"subject"`
	Text        string           `json:"text"`
	Attachments []attachmentJSON `json:"attachments"`
}

func (a *API) write(w http.ResponseWriter, r *http.Request, s store.Session) error {
	if err := a.limited(r); err != nil {
		return err
	}
	var req writeRequest
	if err := decodeJSON(w, r, BodyLimit(a.limits), &req); err != nil {
		return err
	}
	ups, err := uploads(req.Attachments, a.limits)
	if err != nil {
		return err
	}
	id, err := a.mailbox.Write(r.Context(), s.PersonID, session.Level(s.Level), req.Subject, req.Text, ups)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]string{"id": id})
	return nil
}

type replyRequest struct {
	Text        string           `json:"text"`
	Attachments []attachmentJSON `json:"attachments"`
}

func (a *API) reply(w http.ResponseWriter, r *http.Request, s store.Session) error {
	if err := a.limited(r); err != nil {
		return err
	}
	var req replyRequest
	if err := decodeJSON(w, r, BodyLimit(a.limits), &req); err != nil {
		return err
	}
	ups, err := uploads(req.Attachments, a.limits)
	if err != nil {
		return err
	}
	id, err := a.mailbox.Reply(r.Context(), s.PersonID, session.Level(s.Level), r.PathValue("id"), req.Text, ups)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]string{"id": id})
	return nil
}

func (a *API) archive(w http.ResponseWriter, r *http.Request, s store.Session) error {
	var req struct {
		Archived *bool `json:"archived"`
	}
	if err := decodeJSON(w, r, 4<<10, &req); err != nil {
		return err
	}
	if req.Archived == nil {
		return &badRequest{msg: "Bitte geben Sie „archived“ an (true oder false)."}
	}
	if err := a.mailbox.Archive(r.Context(), s.PersonID, session.Level(s.Level), r.PathValue("id"), *req.Archived); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"archived": *req.Archived})
	return nil
}

func (a *API) attachment(w http.ResponseWriter, r *http.Request, s store.Session) error {
	f, err := a.mailbox.Attachment(r.Context(), s.PersonID, session.Level(s.Level), r.PathValue("id"))
	if err != nil {
		return err
	}
	serveFile(w, f)
	return nil
}
