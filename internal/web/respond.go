package web

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pforte/pforte/internal/access"
	"github.com/pforte/pforte/internal/account"
	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/device"
	"github.com/pforte/pforte/internal/field"
	"github.com/pforte/pforte/internal/password"
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
	"stepup", "need-phone", "personal", "change-data", "change-wait", "devices", "locked"}

func mustParsePages() map[string]*template.Template {
	pages := make(map[string]*template.Template, len(pageNames))
	for _, name := range pageNames {
		t := template.New("layout.html").Funcs(template.FuncMap{"dateTime": dateTime})
		pages[name] = template.Must(t.ParseFS(templateFS, "templates/layout.html", "templates/form.html", "templates/"+name+".html"))
	}
	return pages
}

var berlin = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		return time.UTC
	}
	return loc
}()

// dateTime formats t the German way in German time.
func dateTime(t time.Time) string {
	return t.In(berlin).Format("02.01.2006, 15:04") + " Uhr"
}

// handlerFunc handles one request; an error goes to fail.
type handlerFunc func(rw http.ResponseWriter, r *http.Request) error

// page wraps a handler with the cross-origin check and the page headers.
func (w *Web) page(h handlerFunc) http.Handler {
	return w.wrap(h, "")
}

// partnerPage is page for pages whose forms may redirect to the eID partner.
func (w *Web) partnerPage(h handlerFunc) http.Handler {
	extra := ""
	if w.cfg.EIDOrigin != "" {
		extra = " " + w.cfg.EIDOrigin
	}
	return w.wrap(h, extra)
}

// passwordPage is page for pages with a new-password form: they may load the
// portal's own strength-meter script and let it ask the portal.
func (w *Web) passwordPage(h handlerFunc) http.Handler {
	return w.wrapCSP(h, fmtCSP("", "; script-src 'self'; connect-src 'self'"))
}

func (w *Web) wrap(h handlerFunc, formTargets string) http.Handler {
	return w.wrapCSP(h, fmtCSP(formTargets, ""))
}

func (w *Web) wrapCSP(h handlerFunc, csp string) http.Handler {
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
func (w *Web) authenticated(h func(rw http.ResponseWriter, r *http.Request, tok session.Token, s store.Session) error, mustChangeOK bool) http.Handler {
	return w.page(w.withSession(h, mustChangeOK))
}

// withSession runs h with the request's session (see authenticated).
func (w *Web) withSession(h func(rw http.ResponseWriter, r *http.Request, tok session.Token, s store.Session) error, mustChangeOK bool) handlerFunc {
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

// currentSession returns the session of the request's cookie, or
// errUnauthenticated.
func (w *Web) currentSession(r *http.Request) (session.Token, store.Session, error) {
	c, err := r.Cookie(w.cookieName(sessionCookie))
	if err != nil || c.Value == "" || len(c.Value) > 128 {
		return "", store.Session{}, errUnauthenticated
	}
	tok := session.Token(c.Value)
	s, err := w.sessions.Authenticate(r.Context(), tok)
	if errors.Is(err, session.ErrNoSession) {
		return "", store.Session{}, errUnauthenticated
	}
	if err != nil {
		return "", store.Session{}, err
	}
	return tok, s, nil
}

// asset serves one embedded file.
func (w *Web) asset(name, contentType string) http.Handler {
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
	Title      string
	Insurer    string
	Phone      string
	LoggedIn   bool
	Refresh    bool // a waiting page: the browser reloads it every 2 seconds
	PhonePages bool // the phone pages exist (EnableApprovals)
	Form       *form
	Message    *message
	Data       any
}

// render executes the page into a buffer and writes it with status, so a
// template failure never sends half a page.
func (w *Web) render(rw http.ResponseWriter, r *http.Request, status int, name string, v view) error {
	v.Insurer, v.Phone = w.cfg.InsurerName, w.cfg.Phone
	v.PhonePages = w.approvals != nil
	if v.Form == nil {
		v.Form = &form{}
	}
	var buf bytes.Buffer
	if err := w.pages[name].Execute(&buf, v); err != nil {
		return err
	}
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	rw.WriteHeader(status)
	_, _ = rw.Write(buf.Bytes())
	return nil
}

// renderMessage shows a message page.
func (w *Web) renderMessage(rw http.ResponseWriter, r *http.Request, status int, m message) error {
	return w.render(rw, r, status, "message", view{Title: m.Heading, Message: &m})
}

// Errors the handlers return for fail.
type (
	// badRequest is malformed input that a form page cannot show at a
	// field: not UTF-8, too long, unreadable.
	badRequest struct {
		status int
		msg    string
	}
	// formFailed re-renders the form page the person submitted, with the
	// values they typed (never a password) and what is wrong.
	formFailed struct {
		page  string
		view  view
		cause error
	}
	// rateLimited asks the client to come back after wait.
	rateLimited struct{ wait time.Duration }
	// fieldProblems are problems the handler found itself (missing field,
	// repeated password differs).
	fieldProblems []fieldError
)

func (e *badRequest) Error() string   { return "web: bad request: " + e.msg }
func (e *formFailed) Error() string   { return "web: form " + e.page + ": " + e.cause.Error() }
func (e *formFailed) Unwrap() error   { return e.cause }
func (e *rateLimited) Error() string  { return "web: rate limited" }
func (e fieldProblems) Error() string { return "web: " + strconv.Itoa(len(e)) + " field problems" }

const (
	msgLoginFailed    = "Die Anmeldung ist fehlgeschlagen. Bitte prüfen Sie Ihre Versichertennummer und Ihr Passwort."
	msgResetFailed    = "Das Passwort konnte nicht zurückgesetzt werden. Bitte prüfen Sie Ihre Versichertennummer und den Code aus dem Brief. Der Code gilt nur einmal und nur bis zu dem im Brief genannten Datum."
	msgRefused        = "Dieses Passwort kann nicht verwendet werden. Bitte wählen Sie ein anderes."
	msgEIDUnavailable = "Die Identifizierung mit dem Online-Ausweis ist derzeit nicht möglich. Bitte wählen Sie den Weg per Brief."
	msgWrongOld       = "Das bisherige Passwort ist nicht richtig."
	msgWrongInitial   = "Das Initialpasswort ist nicht richtig oder nicht mehr gültig. Bitte prüfen Sie die Eingabe mit dem Brief."
)

// fail turns a handler's error into the page that answers it. Expected
// outcomes get their page and a German message that reveals nothing; anything
// else is logged once with the request id and answered with a generic 500
// page.
func (w *Web) fail(rw http.ResponseWriter, r *http.Request, err error) {
	var (
		ff      *formFailed
		bad     *badRequest
		limited *rateLimited
	)
	var rerr error
	switch {
	case errors.As(err, &ff) && !formProblem(ff.cause):
		w.fail(rw, r, ff.cause)
		return
	case errors.As(err, &ff):
		rerr = w.renderForm(rw, r, ff)
	case errors.As(err, &bad):
		rerr = w.renderMessage(rw, r, bad.status, message{Heading: "Die Eingabe konnte nicht verarbeitet werden", Alert: true,
			Lines: []string{bad.msg}, Links: []link{{"/", "Zur Startseite"}}})
	case errors.Is(err, errUnauthenticated):
		w.clearCookie(rw, sessionCookie)
		rerr = redirect(rw, r, "/anmelden")
	case errors.As(err, &limited):
		retryAfter(rw, limited.wait)
		rerr = w.renderMessage(rw, r, http.StatusTooManyRequests, message{Heading: "Zu viele Versuche", Alert: true,
			Lines: []string{"Von Ihrem Anschluss kamen in kurzer Zeit zu viele Anmeldeversuche. Bitte warten Sie einen Moment und versuchen Sie es dann noch einmal."},
			Links: []link{{"/anmelden", "Zurück zur Anmeldung"}}})
	case errors.Is(err, password.ErrBusy):
		retryAfter(rw, time.Second)
		rerr = w.renderMessage(rw, r, http.StatusServiceUnavailable, message{Heading: "Der Dienst ist gerade ausgelastet", Alert: true,
			Lines: []string{"Bitte versuchen Sie es in wenigen Sekunden noch einmal."}, Links: []link{{r.URL.Path, "Erneut versuchen"}}})
	case errors.Is(err, access.ErrEIDUnavailable):
		rerr = w.renderMessage(rw, r, http.StatusNotFound, message{Heading: "Online-Ausweis nicht verfügbar", Alert: true,
			Lines: []string{msgEIDUnavailable}, Links: []link{{"/zugang", "Zugangsdaten anfordern"}}})
	case errors.Is(err, access.ErrTicket):
		w.clearCookie(rw, ticketCookie)
		rerr = w.renderMessage(rw, r, http.StatusBadRequest, message{Heading: "Die Identifizierung ist abgelaufen", Alert: true,
			Lines: []string{"Die Identifizierung mit dem Online-Ausweis gilt 15 Minuten und nur für ein Passwort. Bitte weisen Sie sich erneut aus."},
			Links: []link{{"/zugang", "Zugangsdaten erneut anfordern"}, {"/passwort-vergessen", "Passwort vergessen"}}})
	case errors.Is(err, access.ErrEIDNoMatch):
		rerr = w.renderMessage(rw, r, http.StatusForbidden, message{Heading: "Die Identifizierung hat nicht gepasst", Alert: true,
			Lines: []string{"Die Daten aus Ihrem Ausweis passen nicht zu den Angaben, die wir zu dieser Versichertennummer haben.",
				"Bitte prüfen Sie die Versichertennummer auf Ihrer Gesundheitskarte. Wenn sich Ihr Name oder Ihre Anschrift geändert hat, rufen Sie uns bitte an."},
			Links: []link{{"/zugang", "Erneut versuchen"}, {"/", "Zur Startseite"}}})
	case errors.Is(err, access.ErrEIDCancelled):
		rerr = w.renderMessage(rw, r, http.StatusOK, message{Heading: "Identifizierung abgebrochen",
			Lines: []string{"Sie haben die Identifizierung mit dem Online-Ausweis abgebrochen. Es wurde nichts geändert."},
			Links: []link{{"/zugang", "Erneut versuchen"}, {"/", "Zur Startseite"}}})
	case errors.Is(err, access.ErrEIDFailed):
		rerr = w.renderMessage(rw, r, http.StatusBadRequest, message{Heading: "Die Identifizierung ist fehlgeschlagen", Alert: true,
			Lines: []string{"Die Identifizierung mit dem Online-Ausweis konnte nicht abgeschlossen werden. Bitte beginnen Sie noch einmal.",
				"Wenn es wieder nicht gelingt, können Sie Ihre Zugangsdaten auch per Brief anfordern."},
			Links: []link{{"/zugang", "Erneut versuchen"}, {"/", "Zur Startseite"}}})
	case errors.Is(err, approval.ErrTooManyPending) && strings.HasPrefix(r.URL.Path, "/anmelden"):
		retryAfter(rw, 5*time.Minute)
		rerr = w.renderMessage(rw, r, http.StatusTooManyRequests, message{Heading: "Zu viele Anmeldeversuche", Alert: true,
			Lines: []string{"Zu viele Anmeldeversuche — bitte warten Sie einige Minuten und melden Sie sich dann erneut an.",
				"Wenn Sie selbst keine Anmeldung begonnen haben, lehnen Sie Anfragen in der Service-App mit „Das war ich nicht“ ab und ändern Sie Ihr Passwort."},
			Links: []link{{"/anmelden", "Zur Anmeldung"}, {"/", "Zur Startseite"}}})
	case errors.Is(err, approval.ErrTooManyPending):
		retryAfter(rw, 5*time.Minute)
		rerr = w.renderMessage(rw, r, http.StatusTooManyRequests, message{Heading: "Zu viele unbestätigte Anfragen", Alert: true,
			Lines: []string{"Es gibt zu viele Anfragen dieser Art, die nicht in der Service-App bestätigt wurden — bitte warten Sie einige Minuten und versuchen Sie es dann erneut.",
				"Wenn Sie selbst keine Anfrage begonnen haben, lehnen Sie Anfragen in der Service-App mit „Das war ich nicht“ ab und ändern Sie Ihr Passwort."},
			Links: []link{{"/konto", "Zu Mein Konto"}, {"/", "Zur Startseite"}}})
	case errors.Is(err, approval.ErrSessionLevel):
		rerr = w.renderMessage(rw, r, http.StatusForbidden, message{Heading: "Anmeldung mit dem Smartphone nötig", Alert: true,
			Lines: []string{"Für diese Aktion muss Ihre Anmeldung in der Service-App bestätigt sein. Mit dem Passwort allein ist sie nicht möglich.",
				"Melden Sie sich ab und wieder an, und bestätigen Sie die Anmeldung auf Ihrem Smartphone."},
			Links: []link{{"/konto", "Zu Mein Konto (dort abmelden)"}}})
	case errors.Is(err, account.ErrTooManyChanges):
		retryAfter(rw, 24*time.Hour)
		rerr = w.renderMessage(rw, r, http.StatusTooManyRequests, message{Heading: "Heute keine weitere Passwortänderung", Alert: true,
			Lines: []string{"Ihr Passwort wurde heute schon mehrmals geändert. Aus Sicherheitsgründen ist eine weitere Änderung erst morgen möglich.",
				"Wenn Sie Ihr Passwort nicht selbst geändert haben, rufen Sie uns bitte an."},
			Links: []link{{"/konto", "Zu Mein Konto"}}})
	case errors.Is(err, approval.ErrNoDevice):
		rerr = w.renderMessage(rw, r, http.StatusConflict, message{Heading: "Kein Smartphone verbunden", Alert: true,
			Lines: []string{"Für diese Aktion brauchen Sie ein Smartphone, das mit Ihrem Konto verbunden ist: Sie bestätigen sie dort in der Service-App mit Ihrer Freigabe-PIN.",
				"Installieren Sie die Service-App und verbinden Sie sie mit dem Aktivierungsbrief oder mit Ihrem Online-Ausweis. Danach können Sie hier weitermachen."},
			Links: []link{{"/geraete", "Meine Geräte"}, {"/konto", "Zu Mein Konto"}}})
	case errors.Is(err, approval.ErrNotFound), errors.Is(err, device.ErrNotFound):
		rerr = w.renderMessage(rw, r, http.StatusNotFound, message{Heading: "Nicht gefunden", Alert: true,
			Lines: []string{"Diese Anfrage oder dieses Gerät gibt es nicht (mehr)."},
			Links: []link{{"/konto", "Zu Mein Konto"}}})
	case r.Context().Err() != nil && errors.Is(err, r.Context().Err()):
		// The client went away; nobody reads an answer.
		return
	default:
		rerr = err
	}
	if rerr != nil {
		w.internal(rw, r, rerr)
	}
}

// internal logs err once and answers with the generic 500 page.
func (w *Web) internal(rw http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return
	}
	w.logger.ErrorContext(r.Context(), "web request failed", server.RequestIDAttr(r.Context()), slog.Any("error", err))
	m := message{Heading: "Ein Fehler ist aufgetreten", Alert: true,
		Lines: []string{"Bei der Bearbeitung ist ein Fehler aufgetreten. Bitte versuchen Sie es später noch einmal."},
		Links: []link{{"/", "Zur Startseite"}}}
	if w.render(rw, r, http.StatusInternalServerError, "message", view{Title: m.Heading, Message: &m}) != nil {
		http.Error(rw, "Ein interner Fehler ist aufgetreten.", http.StatusInternalServerError)
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

// renderForm shows the form page again with what is wrong.
func (w *Web) renderForm(rw http.ResponseWriter, r *http.Request, ff *formFailed) error {
	f := ff.view.Form
	var (
		invalid  *field.Error
		refused  *account.RefusedError
		problems fieldProblems
	)
	switch {
	case errors.As(ff.cause, &problems):
		f.Errors = append(f.Errors, problems...)
	case errors.As(ff.cause, &invalid):
		f.Errors = append(f.Errors, fieldError{Field: invalid.Name, Message: invalid.Message})
	case errors.As(ff.cause, &refused):
		f.Errors = append(f.Errors, fieldError{Field: "new_password", Message: msgRefused})
		for _, rs := range refused.Reasons {
			f.Reasons = append(f.Reasons, rs.Message("de"))
		}
	case errors.Is(ff.cause, account.ErrWrongPassword):
		msg := msgWrongOld
		if p, ok := ff.view.Data.(changePage); ok && p.Initial {
			msg = msgWrongInitial
		}
		f.Errors = append(f.Errors, fieldError{Field: "current_password", Message: msg})
	case errors.Is(ff.cause, account.ErrLoginFailed):
		f.Errors = append(f.Errors, fieldError{Message: msgLoginFailed})
	case errors.Is(ff.cause, access.ErrEIDUnavailable):
		f.Errors = append(f.Errors, fieldError{Field: "method", Message: msgEIDUnavailable})
	case errors.Is(ff.cause, access.ErrResetFailed):
		f.Errors = append(f.Errors, fieldError{Message: msgResetFailed})
	default:
		return ff.cause
	}
	return w.render(rw, r, http.StatusUnprocessableEntity, ff.page, ff.view)
}

// denyCrossOrigin answers a refused cross-origin request.
func (w *Web) denyCrossOrigin(rw http.ResponseWriter, r *http.Request) {
	rw.Header().Set("Content-Security-Policy", fmtCSP("", ""))
	_ = w.renderMessage(rw, r, http.StatusForbidden, message{Heading: "Anfrage abgelehnt", Alert: true,
		Lines: []string{"Diese Anfrage kam nicht von einer Seite dieses Portals und wurde deshalb abgelehnt. Bitte öffnen Sie das Portal direkt und versuchen Sie es dort noch einmal."},
		Links: []link{{"/", "Zur Startseite"}}})
}

func retryAfter(rw http.ResponseWriter, d time.Duration) {
	rw.Header().Set("Retry-After", strconv.Itoa(int(math.Max(1, math.Ceil(d.Seconds())))))
}
