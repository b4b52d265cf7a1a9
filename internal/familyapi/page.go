package familyapi

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/pforte/pforte/internal/answer"
	"github.com/pforte/pforte/internal/family"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/mailbox"
	"github.com/pforte/pforte/internal/profile"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// PagePath is where the family pages live.
const PagePath = "/familie"

//go:embed templates/*.html
var templateFS embed.FS

// pageTemplates are the templates, parsed once per language.
var pageTemplates = func() map[lang.Language]*template.Template {
	sets := map[lang.Language]*template.Template{}
	for _, l := range lang.All() {
		funcs := template.FuncMap(l.Funcs())
		funcs["basis"] = func(b family.Basis) string { return basisWord(l, b) }
		funcs["action"] = func(a string) string { return actionWord(l, a) }
		funcs["has"] = func(actions []string, a string) bool { return slices.Contains(actions, a) }
		// lastday says the last day a representation holds: its end is
		// the midnight after it (exclusive).
		funcs["lastday"] = func(until time.Time) string { return l.Date(until.Add(-time.Nanosecond)) }
		sets[l] = template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html"))
	}
	return sets
}()

func basisWord(l lang.Language, b family.Basis) string {
	switch b {
	case family.BasisParent:
		return l.T("family.page.basis_parent")
	case family.BasisAuthorised:
		return l.T("family.page.basis_authorised")
	case family.BasisCustodian:
		return l.T("family.page.basis_custodian")
	}
	return ""
}

func actionWord(l lang.Language, a string) string {
	switch a {
	case family.ActionDataView:
		return l.T("family.page.action_data_view")
	case family.ActionAddressChange:
		return l.T("family.page.action_address_change")
	case family.ActionMailboxRead:
		return l.T("family.page.action_mailbox_read")
	case family.ActionMailboxWrite:
		return l.T("family.page.action_mailbox_write")
	}
	return a
}

// Browser finds the portal session and the language of a browser request
// (web.Browser).
type Browser interface {
	Session(r *http.Request) (store.Session, bool)
	Language(r *http.Request) lang.Language
}

// Pages serves the portal's family pages.
type Pages struct {
	family         Family
	mailbox        Mailbox
	browser        Browser
	insurer, phone string
	logger         *slog.Logger
	cop            *http.CrossOriginProtection
	mux            *http.ServeMux
}

// NewPages returns the pages.
func NewPages(insurer, phone string, f Family, mb Mailbox, browser Browser, logger *slog.Logger) *Pages {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	p := &Pages{family: f, mailbox: mb, browser: browser, insurer: insurer, phone: phone, logger: logger, cop: http.NewCrossOriginProtection()}
	p.cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setPageHeaders(w)
		p.problem(w, r, http.StatusForbidden, lang.Key("answer.bad_request.heading"), lang.Key("family.page.cross_origin"))
	}))
	p.mux = newMux(p.Routes())
	return p
}

// ServeHTTP serves the pages, for tests.
func (p *Pages) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.mux.ServeHTTP(w, r) }

const pageCSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func setPageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}

type pageFunc func(w http.ResponseWriter, r *http.Request, s store.Session) error

// page runs h with the browser's session behind the cross-origin check;
// without a session it leads to the login page.
func (p *Pages) page(h pageFunc) http.Handler {
	return p.cop.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setPageHeaders(w)
		s, ok := p.browser.Session(r)
		if !ok {
			http.Redirect(w, r, "/anmelden", http.StatusSeeOther)
			return
		}
		if s.MustChangePassword {
			http.Redirect(w, r, "/passwort-aendern", http.StatusSeeOther)
			return
		}
		if err := h(w, r, s); err != nil {
			p.fail(w, r, err)
		}
	}))
}

// view is what the templates get.
type view struct {
	Title, Insurer, Phone string
	Heading, Problem      string
	// ProblemField names the form field the problem concerns, for the
	// link from the error summary.
	ProblemField string
	Links        []link
	Here         string

	Members []family.Member
	Acts    []family.Act
	Low     bool // the session is below substantial: acts on behalf need the phone

	Subject  family.Subject
	Handle   string
	Data     profile.View
	Address  profile.Address
	Approval store.Approval
	Pending  bool

	Threads []mailbox.Summary
	Thread  *mailbox.Thread
}

type link struct{ Href, Label string }

func (p *Pages) render(w http.ResponseWriter, r *http.Request, status int, name string, v view) error {
	l := p.browser.Language(r)
	v.Insurer, v.Phone = p.insurer, p.phone
	if r.Method == http.MethodGet && len(r.URL.Path) <= 512 {
		v.Here = r.URL.Path
	} else {
		v.Here = PagePath
	}
	var buf bytes.Buffer
	if err := pageTemplates[l].ExecuteTemplate(&buf, name, v); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
	return nil
}

// problem renders a failure with its ways back.
func (p *Pages) problem(w http.ResponseWriter, r *http.Request, status int, heading, msg lang.Text) {
	l := p.browser.Language(r)
	v := view{Title: heading.In(l), Heading: heading.In(l), Problem: msg.In(l), Links: p.waysBack(l)}
	if err := p.render(w, r, status, "problem.html", v); err != nil {
		p.logger.ErrorContext(r.Context(), "family page failed", slog.String("path", r.Pattern), slog.Any("error", err))
		http.Error(w, l.T("family.page.internal"), http.StatusInternalServerError)
	}
}

func (p *Pages) waysBack(l lang.Language) []link {
	return []link{{PagePath, l.T("family.page.to_family")}, {"/konto", l.T("family.page.to_account")}, {"/postfach/neu", l.T("family.page.to_mailbox")}}
}

// fail renders err's answer in the page's language; an internal failure is
// logged once.
func (p *Pages) fail(w http.ResponseWriter, r *http.Request, err error) {
	l := p.browser.Language(r)
	status, body, ok := failure(err)
	if !ok {
		if r.Context().Err() != nil {
			return
		}
		p.logger.ErrorContext(r.Context(), "family page failed", slog.String("path", r.Pattern), slog.Any("error", err))
		status = http.StatusInternalServerError
	}
	heading, msg := l.T("answer.internal.heading"), l.T("answer.internal.message")
	if a, known := answer.For(err); known {
		heading, msg = a.In(l)
	} else if ok {
		heading, msg = l.T("answer.bad_request.heading"), body.Message
	}
	v := view{Title: heading, Heading: heading, Problem: msg, Links: p.waysBack(l)}
	if errors.Is(err, family.ErrTurned15) {
		v.Links = append(v.Links, link{"/zugang", l.T("family.page.own_access")})
	}
	if rerr := p.render(w, r, status, "problem.html", v); rerr != nil {
		p.logger.ErrorContext(r.Context(), "family page failed", slog.String("path", r.Pattern), slog.Any("error", rerr))
		http.Error(w, l.T("family.page.internal"), http.StatusInternalServerError)
	}
}

func (p *Pages) list(w http.ResponseWriter, r *http.Request, s store.Session) error {
	members, err := p.family.Family(r.Context(), s.PersonID)
	if err != nil {
		return err
	}
	acts, err := p.family.Acts(r.Context(), s.PersonID)
	if err != nil {
		return err
	}
	l := p.browser.Language(r)
	return p.render(w, r, http.StatusOK, "family.html", view{Title: l.T("family.page.title"), Members: members, Acts: acts,
		Low: session.Level(s.Level).Rank() < session.LevelSubstantial.Rank()})
}

func (p *Pages) member(w http.ResponseWriter, r *http.Request, s store.Session) error {
	sub, data, err := p.family.View(r.Context(), s.PersonID, r.PathValue("handle"), session.Level(s.Level))
	if err != nil {
		return err
	}
	return p.render(w, r, http.StatusOK, "member.html", view{Title: sub.Name, Subject: sub, Handle: sub.Handle, Data: data, Address: data.Address})
}

// readForm parses a small urlencoded form.
func readForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, bodyLimit)
	if err := r.ParseForm(); err != nil {
		return &answer.Bad{Message: "Das Formular konnte nicht gelesen werden.", Text: lang.Key("family.page.bad_form")}
	}
	return nil
}

func (p *Pages) address(w http.ResponseWriter, r *http.Request, s store.Session) error {
	if err := readForm(w, r); err != nil {
		return err
	}
	a := profile.Address{Street: r.PostForm.Get("strasse"), HouseNumber: r.PostForm.Get("hausnummer"),
		PostalCode: r.PostForm.Get("plz"), City: r.PostForm.Get("ort")}
	handle := r.PathValue("handle")
	ap, err := p.family.RequestAddressChange(r.Context(), s.PersonID, handle, a, "portal", session.Level(s.Level))
	if err != nil {
		return err
	}
	http.Redirect(w, r, PagePath+"/freigabe/"+url.PathEscape(ap.ID), http.StatusSeeOther)
	return nil
}

func (p *Pages) approval(w http.ResponseWriter, r *http.Request, s store.Session) error {
	ap, err := p.family.Status(r.Context(), r.PathValue("id"), s.PersonID)
	if err != nil {
		return err
	}
	if ap.Action != family.ApprovalAction {
		return family.ErrNotLinked
	}
	l := p.browser.Language(r)
	return p.render(w, r, http.StatusOK, "approval.html", view{Title: l.T("family.page.approval_title"), Approval: ap,
		Pending: ap.Status == store.ApprovalPending})
}

func (p *Pages) mailboxList(w http.ResponseWriter, r *http.Request, s store.Session) error {
	sub, err := p.family.Act(r.Context(), s.PersonID, r.PathValue("handle"), family.ActionMailboxRead, session.Level(s.Level))
	if err != nil {
		return err
	}
	ov, err := p.mailbox.Overview(r.Context(), sub.ID, session.Level(s.Level), mailbox.Query{})
	if err != nil {
		return err
	}
	for i := range ov.Threads {
		if k := ov.Threads[i].NoticeKind; k != "" {
			ov.Threads[i].Subject = mailbox.NoticeSubject(p.browser.Language(r), k)
		}
	}
	return p.render(w, r, http.StatusOK, "mailbox.html", view{Title: sub.Name, Subject: sub, Handle: sub.Handle, Threads: ov.Threads})
}

func (p *Pages) mailboxThread(w http.ResponseWriter, r *http.Request, s store.Session) error {
	sub, err := p.family.Act(r.Context(), s.PersonID, r.PathValue("handle"), family.ActionMailboxRead, session.Level(s.Level))
	if err != nil {
		return err
	}
	t, err := p.mailbox.Open(r.Context(), sub.ID, session.Level(s.Level), r.PathValue("id"))
	if err != nil {
		return err
	}
	if t.NoticeKind != "" {
		t.Subject = mailbox.NoticeSubject(p.browser.Language(r), t.NoticeKind)
	}
	return p.render(w, r, http.StatusOK, "thread.html", view{Title: t.Subject, Subject: sub, Handle: sub.Handle, Thread: &t})
}

func (p *Pages) mailboxWrite(w http.ResponseWriter, r *http.Request, s store.Session) error {
	if err := readForm(w, r); err != nil {
		return err
	}
	handle := r.PathValue("handle")
	id, err := p.write(r.Context(), s, handle, r.PostForm.Get("betreff"), r.PostForm.Get("text"))
	if err != nil {
		return err
	}
	http.Redirect(w, r, PagePath+"/person/"+url.PathEscape(handle)+"/postfach/"+url.PathEscape(id), http.StatusSeeOther)
	return nil
}

func (p *Pages) write(ctx context.Context, s store.Session, handle, subject, text string) (string, error) {
	sub, err := p.family.Act(ctx, s.PersonID, handle, family.ActionMailboxWrite, session.Level(s.Level))
	if err != nil {
		return "", err
	}
	return p.mailbox.Write(ctx, sub.ID, session.Level(s.Level), subject, text, nil)
}
