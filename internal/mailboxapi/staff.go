package mailboxapi

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/mailbox"
)

// Staff serves the insurer's staff API: the back office writes to persons,
// reads their messages and answers them. Every call carries the staff
// token of the configuration as a bearer token, and names its author.
type Staff struct {
	base
	mailbox StaffMailbox
	mux     *http.ServeMux
}

// NewStaff returns the staff routes; cfg.StaffToken must be set (Routes is
// empty without it).
func NewStaff(cfg Config, mb StaffMailbox, logger *slog.Logger) *Staff {
	s := &Staff{base: newBase(cfg, mb.Limits(), logger), mailbox: mb}
	s.mux = newMux(s.Routes())
	return s
}

// Routes lists the staff routes; none without a staff token.
func (s *Staff) Routes() map[string]http.Handler {
	if len(s.cfg.StaffToken) < MinStaffToken {
		return map[string]http.Handler{}
	}
	return map[string]http.Handler{
		"POST /api/v1/staff/mailbox/threads":                       s.staff(s.send),
		"GET /api/v1/staff/mailbox/inbox":                          s.staff(s.inbox),
		"GET /api/v1/staff/mailbox/threads/{id}":                   s.staff(s.thread),
		"POST /api/v1/staff/mailbox/threads/{id}/messages":         s.staff(s.reply),
		"GET /api/v1/staff/mailbox/threads/{id}/attachments/{att}": s.staff(s.attachment),
	}
}

// ServeHTTP serves the routes, for tests.
func (s *Staff) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// staff runs h for a request with the staff token.
func (s *Staff) staff(h handlerFunc) http.Handler {
	return s.handleJSON(func(w http.ResponseWriter, r *http.Request) error {
		tok, ok := bearer(r)
		if !ok || !tokenMatches(tok, s.cfg.StaffToken) {
			return errUnauthenticated
		}
		return h(w, r)
	})
}

type sendRequest struct {
	KVNR        string           `json:"kvnr"`
	Author      string           `json:"author"`
	Subject     string           `json:"subject"`
	Text        string           `json:"text"`
	ReplyBy     string           `json:"reply_by"` // YYYY-MM-DD, optional
	Attachments []attachmentJSON `json:"attachments"`
}

func (s *Staff) send(w http.ResponseWriter, r *http.Request) error {
	var req sendRequest
	if err := decodeJSON(w, r, BodyLimit(s.limits), &req); err != nil {
		return err
	}
	o := mailbox.Outgoing{KVNR: req.KVNR, Author: "staff:" + req.Author, Subject: req.Subject, Text: req.Text}
	if req.Author == "" {
		o.Author = ""
	}
	if req.ReplyBy != "" {
		d, err := ParseDay(req.ReplyBy)
		if err != nil {
			return err
		}
		o.ReplyBy = d
	}
	ups, err := uploads(req.Attachments, s.limits)
	if err != nil {
		return err
	}
	o.Attachments = ups
	id, err := s.mailbox.Send(r.Context(), o)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]string{"id": id})
	return nil
}

// ParseDay reads a reply-by date (YYYY-MM-DD) as noon of that German day.
func ParseDay(s string) (time.Time, error) {
	d, err := time.ParseInLocation(time.DateOnly, s, lang.Berlin)
	if err != nil {
		return time.Time{}, &mailbox.InputError{Field: "reply_by", Msg: "Das Antwortdatum hat die Form JJJJ-MM-TT, zum Beispiel 2026-12-31."}
	}
	return d.Add(12 * time.Hour), nil
}

// staffSummaryJSON adds what staff see of a thread.
type staffSummaryJSON struct {
	summaryJSON
	UnreadByStaff int `json:"unread_by_staff"`
}

func (s *Staff) inbox(w http.ResponseWriter, r *http.Request) error {
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	ts, err := s.mailbox.StaffInbox(r.Context(), limit)
	if err != nil {
		return err
	}
	out := struct {
		Threads []staffSummaryJSON `json:"threads"`
	}{Threads: []staffSummaryJSON{}}
	for _, t := range ts {
		out.Threads = append(out.Threads, staffSummaryJSON{summaryJSON: summaryOf(t), UnreadByStaff: t.UnreadByStaff})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Staff) thread(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	t, err := s.mailbox.StaffOpen(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, threadOf(t, func(att string) string {
		return "/api/v1/staff/mailbox/threads/" + id + "/attachments/" + att
	}))
	return nil
}

func (s *Staff) reply(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Author      string           `json:"author"`
		Text        string           `json:"text"`
		Attachments []attachmentJSON `json:"attachments"`
	}
	if err := decodeJSON(w, r, BodyLimit(s.limits), &req); err != nil {
		return err
	}
	ups, err := uploads(req.Attachments, s.limits)
	if err != nil {
		return err
	}
	author := ""
	if req.Author != "" {
		author = "staff:" + req.Author
	}
	id, err := s.mailbox.StaffReply(r.Context(), r.PathValue("id"), author, req.Text, ups)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]string{"id": id})
	return nil
}

func (s *Staff) attachment(w http.ResponseWriter, r *http.Request) error {
	f, err := s.mailbox.StaffAttachment(r.Context(), r.PathValue("id"), r.PathValue("att"))
	if err != nil {
		return err
	}
	serveFile(w, f)
	return nil
}
