package web

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pforte/pforte/internal/access"
	"github.com/pforte/pforte/internal/account"
	"github.com/pforte/pforte/internal/answer"
	"github.com/pforte/pforte/internal/field"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/server"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pageNames are the templates in templates/, each rendered into layout.html.
var pageNames = []string{"start", "access", "choose-password", "login", "account", "change-password", "reset", "message",
	"stepup", "need-phone", "personal", "change-data", "change-wait", "devices", "device-remove", "locked", "email", "email-link"}

// mustParsePages parses every page once per language, with the
// language's template functions (lang.Language.Funcs): the words come from
// the catalogue, the markup is the same in every language.
func mustParsePages() map[lang.Language]map[string]*template.Template {
	sets := make(map[lang.Language]map[string]*template.Template, len(lang.All()))
	for _, l := range lang.All() {
		pages := make(map[string]*template.Template, len(pageNames))
		for _, name := range pageNames {
			t := template.New("layout.html").Funcs(l.Funcs())
			pages[name] = template.Must(t.ParseFS(templateFS, "templates/layout.html", "templates/form.html", "templates/assistant-panel.html", "templates/"+name+".html"))
		}
		sets[l] = pages
	}
	return sets
}

// handlerFunc handles one request; an error goes to fail.
type handlerFunc func(rw http.ResponseWriter, r *http.Request) error

// page wraps a handler with the cross-origin check and the page headers.
func (w *base) page(h handlerFunc) http.Handler {
	return w.wrap(h, "")
}

// partnerPage is page for pages whose forms may redirect to the eID partner.
func (w *base) partnerPage(h handlerFunc) http.Handler {
	extra := ""
	if w.cfg.EIDOrigin != "" {
		extra = " " + w.cfg.EIDOrigin
	}
	return w.wrap(h, extra)
}

// passwordPage is page for pages with a new-password form: they may load the
// portal's own strength-meter script and let it ask the portal.
func (w *base) passwordPage(h handlerFunc) http.Handler {
	return w.wrapCSP(h, fmtCSP("", "; script-src 'self'; connect-src 'self'"))
}

func (w *base) wrap(h handlerFunc, formTargets string) http.Handler {
	return w.wrapCSP(h, fmtCSP(formTargets, ""))
}

func (w *base) wrapCSP(h handlerFunc, csp string) http.Handler {
	return w.cop.Handler(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		hd := rw.Header()
		hd.Set("Content-Security-Policy", csp)
		hd.Set("Cache-Control", "no-store")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		if err := h(rw, r); err != nil {
			w.fail(rw, r, err)
		}
	}))
}

// fmtCSP is the page Content-Security-Policy: no scripts (but what extra
// allows), styles only from the portal, forms only to the portal and
// formTargets (browsers apply form-action to the redirect that follows a
// form).
func fmtCSP(formTargets, extra string) string {
	return "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'" + formTargets + extra +
		"; frame-ancestors 'none'; base-uri 'none'"
}

// authenticated runs h with the request's session. Without one the browser
// goes to the login page. A session that must replace its initial password
// reaches only handlers that allow it (mustChangeOK) and is sent there
// from everywhere else.
//
// Every such page may carry a form that confirms the session with the eID
// (POST /eid/bestaetigen, which redirects to the partner), so each allows
// the partner as a form target.
func (w *base) authenticated(h func(rw http.ResponseWriter, r *http.Request, tok session.Token, s store.Session) error, mustChangeOK bool) http.Handler {
	return w.partnerPage(w.withSession(h, mustChangeOK))
}

// withSession runs h with the request's session (see authenticated).
func (w *base) withSession(h func(rw http.ResponseWriter, r *http.Request, tok session.Token, s store.Session) error, mustChangeOK bool) handlerFunc {
	return handlerFunc(func(rw http.ResponseWriter, r *http.Request) error {
		tok, s, err := w.currentSession(r)
		if err != nil {
			return err
		}
		if s.MustChangePassword && !mustChangeOK {
			return redirect(rw, r, "/passwort-aendern")
		}
		return h(rw, r, tok, s)
	})
}

var errUnauthenticated = errors.New("web: no valid session")

// errExpired is errUnauthenticated for a cookie whose session is gone: it
// expired, or was ended by a logout.
var errExpired = fmt.Errorf("%w: the session has ended", errUnauthenticated)

// endedSession is errUnauthenticated for a session that was ended early
// (session.EndedError), with why.
type endedSession struct{ reason session.EndReason }

func (e *endedSession) Error() string { return "web: session ended: " + string(e.reason) }
func (e *endedSession) Unwrap() error { return errUnauthenticated }

// loginReason says on the login page why a session a cookie named is
// gone, by the "grund" parameter the failure adds; "" for none.
func loginReason(l lang.Language, grund string) string {
	switch grund {
	case "passwort":
		return l.T("web.login.reason_password")
	case "beendet":
		return l.T("web.login.reason_ended")
	case "service":
		return l.T("web.login.reason_staff")
	case "gesperrt":
		return l.T("web.login.reason_staff_locked")
	case "abgelaufen":
		return l.T("web.login.reason_expired")
	}
	return ""
}

// asset serves one embedded file.
func (w *base) asset(name, contentType string) http.Handler {
	b, err := staticFS.ReadFile(name)
	if err != nil {
		panic("web: missing asset " + name)
	}
	return w.cop.Handler(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", contentType)
		rw.Header().Set("Cache-Control", "public, max-age=3600")
		rw.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = rw.Write(b)
	}))
}

func redirect(rw http.ResponseWriter, r *http.Request, to string) error {
	http.Redirect(rw, r, to, http.StatusSeeOther)
	return nil
}

// link is a link on a message page.
type link struct{ Href, Text string }

// message is the data of the message page: a heading, paragraphs and links.
type message struct {
	Heading string
	Lines   []string
	Links   []link
	Alert   bool // the message reports a problem (role="alert")
}

// view is what every page template gets.
type view struct {
	Title    string
	Here     string // where the language switch returns to (render sets it)
	Insurer  string
	Phone    string
	LoggedIn bool
	Waiting  bool // a waiting page: wait.js asks for it again until it no longer waits
	// Confirmed: the page follows an eID confirmation of the session,
	// which the layout says above it.
	Confirmed bool
	Form      *form
	Message   *message
	Data      any
}

// render executes the page into a buffer and writes it with status, so a
// template failure never sends half a page.
func (w *base) render(rw http.ResponseWriter, r *http.Request, status int, name string, v view) error {
	l := w.language(r)
	v.Insurer, v.Phone, v.Here = w.cfg.InsurerName, w.cfg.Phone, here(r)
	if v.Insurer == "" {
		v.Insurer = l.T("web.layout.insurer")
	}
	v.Confirmed = v.LoggedIn && r.URL.Query().Get("hinweis") == "ausweis"
	if csp := rw.Header().Get("Content-Security-Policy"); v.Waiting && !strings.Contains(csp, "script-src") {
		// A waiting page runs the portal's own wait.js, which asks the
		// portal for the page again.
		rw.Header().Set("Content-Security-Policy", csp+"; script-src 'self'; connect-src 'self'")
	}
	if v.Form == nil {
		v.Form = &form{}
	}
	var buf bytes.Buffer
	if err := w.pages[l][name].Execute(&buf, v); err != nil {
		return err
	}
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	rw.WriteHeader(status)
	_, _ = rw.Write(buf.Bytes())
	return nil
}

// renderMessage shows a message page.
func (w *base) renderMessage(rw http.ResponseWriter, r *http.Request, status int, m message) error {
	return w.render(rw, r, status, "message", view{Title: m.Heading, Message: &m})
}

// Errors the handlers return for fail, beside package answer's.
type (
	// formFailed re-renders the form page the person submitted, with the
	// values they typed (never a password) and what is wrong.
	formFailed struct {
		page  string
		view  view
		cause error
	}
	// fieldProblems are problems the handler found itself (missing field,
	// repeated password differs).
	fieldProblems []fieldError
)

func (e *formFailed) Error() string   { return "web: form " + e.page + ": " + e.cause.Error() }
func (e *formFailed) Unwrap() error   { return e.cause }
func (e fieldProblems) Error() string { return "web: " + strconv.Itoa(len(e)) + " field problems" }

// badRequest is input the portal cannot read (not UTF-8, too long), with
// status 400 or 413.
func badRequest(status int, text lang.Text) error {
	return &answer.Bad{Status: status, Message: text.In(lang.German), Text: text}
}

// rateLimited asks the client to come back after wait.
func rateLimited(wait time.Duration) error { return &answer.Limited{Wait: wait} }

// moreLines are the lines a page adds to package answer's message, by code.
func moreLines(l lang.Language, code string) []string {
	switch code {
	case "eid_no_match":
		return []string{l.T("web.more.eid_no_match")}
	case "eid_failed":
		return []string{l.T("web.more.eid_failed")}
	case "too_many_pending":
		return []string{l.T("web.more.too_many_pending")}
	case "session_level_too_low":
		return []string{l.T("web.more.session_level_too_low")}
	case "too_many_password_changes":
		return []string{l.T("web.more.too_many_password_changes")}
	case "no_device":
		return []string{l.T("web.more.no_device")}
	}
	return nil
}

// waysBack are the ways back a page offers, by code; others lead to the
// start.
func waysBack(l lang.Language, code string) []link {
	start, toAccount, retry := link{"/", l.T("web.link.start")}, link{"/konto", l.T("web.link.to_account")}, link{"/zugang", l.T("web.link.retry")}
	switch code {
	case "rate_limited":
		return []link{{"/anmelden", l.T("web.link.back_login")}}
	case "eid_unavailable":
		return []link{{"/zugang", l.T("web.link.request_access")}}
	case "identification_expired":
		return []link{{"/zugang", l.T("web.link.request_access_again")}, {"/passwort-vergessen", l.T("web.link.forgot")}}
	case "eid_no_match", "eid_cancelled", "eid_failed":
		return []link{retry, start}
	case "eid_other_person", "too_many_password_changes", "not_found":
		return []link{toAccount}
	case "too_many_pending":
		return []link{toAccount, start}
	case "session_level_too_low":
		return []link{{"/konto", l.T("web.link.to_account_logout")}}
	case "no_device":
		return []link{{"/geraete", l.T("web.nav.devices")}, toAccount}
	case "devices_locked":
		return []link{{"/geraete", l.T("web.link.unlock_pin")}, toAccount}
	case "email_link_invalid", "email_link_expired":
		return []link{{"/daten/email", l.T("web.link.email_again")}, toAccount}
	case "email_approval_required", "email_none", "email_too_many_links":
		return []link{{"/daten/email", l.T("web.link.email")}}
	case "access_locked":
		return []link{start}
	}
	return nil
}

// fail turns a handler's error into the page that answers it: a form shown
// again with what is wrong, or a message page with package answer's heading
// and text and the ways back. Anything the table does not know is logged
// once with the request id and answered with a generic 500 page.
func (w *base) fail(rw http.ResponseWriter, r *http.Request, err error) {
	var ff *formFailed
	switch {
	case errors.As(err, &ff) && !formProblem(ff.cause):
		w.fail(rw, r, ff.cause)
		return
	case errors.As(err, &ff):
		if rerr := w.renderForm(rw, r, ff); rerr != nil {
			w.internal(rw, r, rerr)
		}
		return
	case errors.Is(err, errUnauthenticated):
		w.clearCookie(rw, sessionCookie)
		to := "/anmelden"
		var ended *endedSession
		switch {
		case errors.As(err, &ended) && ended.reason == session.EndedPasswordChanged:
			to += "?grund=passwort"
		case errors.As(err, &ended) && ended.reason == session.EndedByPerson:
			to += "?grund=beendet"
		case errors.As(err, &ended) && ended.reason == session.EndedByStaff:
			to += "?grund=service"
		case errors.As(err, &ended) && ended.reason == session.EndedStaffLock:
			to += "?grund=gesperrt"
		case errors.Is(err, errExpired):
			to += "?grund=abgelaufen"
		}
		_ = redirect(rw, r, to)
		return
	case r.Context().Err() != nil && errors.Is(err, r.Context().Err()):
		return // the client went away; nobody reads an answer
	}
	a, ok := answer.For(err)
	if !ok {
		w.internal(rw, r, err)
		return
	}
	if errors.Is(err, access.ErrTicket) {
		w.clearCookie(rw, ticketCookie)
	}
	l := w.language(r)
	heading, msg := a.In(l)
	m := message{Heading: heading, Lines: append([]string{msg}, moreLines(l, a.Code)...), Links: waysBack(l, a.Code), Alert: a.Status >= 400}
	if a.Code == "too_many_pending" && strings.HasPrefix(r.URL.Path, "/anmelden") {
		// The login's own push requests: say so, and lead back to the login.
		m.Heading = l.T("web.fail.login_pending")
		m.Lines[0] = l.T("web.fail.login_pending_text")
		m.Links = []link{{"/anmelden", l.T("web.link.to_login")}, {"/", l.T("web.link.start")}}
	}
	if strings.HasPrefix(a.Code, "eid_") && r.URL.Path == "/eid/rueckkehr" {
		if _, _, err := w.currentSession(r); err == nil {
			// A logged-in person's confirmation: back to their pages.
			m.Links = []link{{"/geraete", l.T("web.link.back_devices")}, {"/konto", l.T("web.link.to_account")}}
		}
	}
	if a.Code == "access_locked" && w.cfg.Phone != "" {
		// The way back: the service telephone that can lift the lock.
		m.Lines = append(m.Lines, l.T("web.more.access_locked", w.cfg.Phone))
	}
	if a.Code == "eid_unavailable" {
		// Without a partner the portal's eID pages do not exist.
		a.Status = http.StatusNotFound
	}
	if a.Code == "busy" {
		m.Links = []link{{r.URL.Path, l.T("web.link.retry")}}
	}
	if len(m.Links) == 0 {
		m.Links = []link{{"/", l.T("web.link.start")}}
	}
	if a.RetryAfter > 0 {
		retryAfter(rw, a.RetryAfter)
	}
	if rerr := w.renderMessage(rw, r, a.Status, m); rerr != nil {
		w.internal(rw, r, rerr)
	}
}

// internal logs err once and answers with the generic 500 page.
func (w *base) internal(rw http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return
	}
	w.logger.ErrorContext(r.Context(), "web request failed", server.RequestIDAttr(r.Context()), slog.Any("error", err))
	l := w.language(r)
	heading, msg := answer.Internal.In(l)
	m := message{Heading: heading, Alert: true, Lines: []string{msg}, Links: []link{{"/", l.T("web.link.start")}}}
	if w.render(rw, r, http.StatusInternalServerError, "message", view{Title: m.Heading, Message: &m}) != nil {
		http.Error(rw, heading, http.StatusInternalServerError)
	}
}

// formProblem reports whether err is shown on the form that caused it.
func formProblem(err error) bool {
	var (
		invalid  *field.Error
		refused  *account.RefusedError
		problems fieldProblems
	)
	return errors.As(err, &problems) || errors.As(err, &invalid) || errors.As(err, &refused) ||
		errors.Is(err, account.ErrWrongPassword) || errors.Is(err, account.ErrLoginFailed) || errors.Is(err, access.ErrResetFailed) ||
		errors.Is(err, access.ErrEIDUnavailable)
}

// renderForm shows the form page again with what is wrong: every field
// error at once, or the outcome's message from package answer.
func (w *base) renderForm(rw http.ResponseWriter, r *http.Request, ff *formFailed) error {
	f := ff.view.Form
	l := w.language(r)
	a, _ := answer.For(ff.cause)
	_, msg := a.In(l)
	var (
		refused  *account.RefusedError
		problems fieldProblems
	)
	switch {
	case errors.As(ff.cause, &problems):
		f.Errors = append(f.Errors, problems...)
	case len(field.All(ff.cause)) > 0:
		for _, e := range field.All(ff.cause) {
			f.Errors = append(f.Errors, fieldError{Field: e.Name, Message: e.In(l)})
		}
	case errors.As(ff.cause, &refused):
		f.Errors = append(f.Errors, fieldError{Field: "new_password", Message: msg})
		for _, rs := range refused.Reasons {
			f.Reasons = append(f.Reasons, rs.Message(string(l)))
		}
	case errors.Is(ff.cause, account.ErrWrongPassword):
		if p, ok := ff.view.Data.(changePage); ok && p.Initial {
			msg = l.T("web.change.wrong_initial")
		}
		f.Errors = append(f.Errors, fieldError{Field: "current_password", Message: msg})
	case errors.Is(ff.cause, access.ErrEIDUnavailable):
		f.Errors = append(f.Errors, fieldError{Field: "method", Message: msg})
	case errors.Is(ff.cause, account.ErrLoginFailed), errors.Is(ff.cause, access.ErrResetFailed):
		f.Errors = append(f.Errors, fieldError{Message: msg})
	default:
		return ff.cause
	}
	return w.render(rw, r, http.StatusUnprocessableEntity, ff.page, ff.view)
}

// denyCrossOrigin answers a refused cross-origin request.
func (w *base) denyCrossOrigin(rw http.ResponseWriter, r *http.Request) {
	rw.Header().Set("Content-Security-Policy", fmtCSP("", ""))
	l := w.language(r)
	_ = w.renderMessage(rw, r, http.StatusForbidden, message{Heading: l.T("web.fail.cross_origin"), Alert: true,
		Lines: []string{l.T("web.fail.cross_origin_text")},
		Links: []link{{"/", l.T("web.link.start")}}})
}

func retryAfter(rw http.ResponseWriter, d time.Duration) {
	rw.Header().Set("Retry-After", strconv.Itoa(int(math.Max(1, math.Ceil(d.Seconds())))))
}

// waitProbeHeader marks the question of a waiting page's script (wait.js)
// whether the page still waits.
const waitProbeHeader = "X-Pforte-Wait"

// answerProbe answers that question when r asks it: "waiting" or "done",
// and nothing else happens; the page loaded anew then does what it does,
// once. It reports whether it answered.
func answerProbe(rw http.ResponseWriter, r *http.Request, waiting bool) bool {
	if r.Header.Get(waitProbeHeader) == "" {
		return false
	}
	rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
	rw.Header().Set("Cache-Control", "no-store")
	answer := "done"
	if waiting {
		answer = "waiting"
	}
	_, _ = io.WriteString(rw, answer)
	return true
}
