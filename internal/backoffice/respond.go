package backoffice

import (
	"bytes"
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"

	"github.com/pforte/pforte/internal/access"
	"github.com/pforte/pforte/internal/account"
	"github.com/pforte/pforte/internal/device"
	"github.com/pforte/pforte/internal/dispatch"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/server"
	"github.com/pforte/pforte/internal/staff"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pageNames are the templates in templates/, each rendered into layout.html.
var pageNames = []string{"login", "home", "message", "search", "person", "review", "requests", "audit", "keys", "keyadd", "keylogin", "batches"}

func mustParsePages() map[string]*template.Template {
	pages := make(map[string]*template.Template, len(pageNames))
	for _, name := range pageNames {
		t := template.New("layout.html").Funcs(template.FuncMap{"time": lang.Short, "de": label})
		pages[name] = template.Must(t.ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
	}
	return pages
}

// csp forbids scripts, frames, and forms and styles from anywhere else.
const csp = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// handlerFunc handles one request; an error goes to fail.
type handlerFunc func(rw http.ResponseWriter, r *http.Request) error

// staffHandler handles one request of a logged-in staff member.
type staffHandler func(rw http.ResponseWriter, r *http.Request, s current) error

// current is the request's staff member and session token.
type current struct {
	staff.Member
	tok staff.Token
}

// page wraps a handler with the cross-origin check (CSRF) and the page
// headers.
func (b *base) page(h handlerFunc) http.Handler {
	return b.cop.Handler(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		hd := rw.Header()
		hd.Set("Content-Security-Policy", csp)
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Cache-Control", "no-store")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		if !b.allowed(r) {
			b.fail(rw, r, errNetwork)
			return
		}
		if err := h(rw, r); err != nil {
			b.fail(rw, r, err)
		}
	}))
}

// errNetwork: the client's address is outside Config.AllowedNetworks.
var errNetwork = errors.New("backoffice: client network not allowed")

// allowed reports whether the client's address may reach the back office.
func (b *base) allowed(r *http.Request) bool {
	if len(b.cfg.AllowedNetworks) == 0 {
		return true
	}
	a, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	for _, p := range b.cfg.AllowedNetworks {
		if p.Contains(a.Addr().Unmap()) {
			return true
		}
	}
	return false
}

// errForbidden: the role lacks the route's permission.
var errForbidden = errors.New("backoffice: forbidden")

// errNoSession: no live staff session.
var errNoSession = errors.New("backoffice: no staff session")

// guard is the one place that decides who may see or do what: it finds
// the staff session of the request's staff cookie and checks the route's
// permission against the role, before h runs.
func (b *base) guard(perm staff.Permission, h staffHandler) handlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) error {
		c, err := r.Cookie(b.cookieName())
		if err != nil || c.Value == "" || len(c.Value) > 128 {
			return errNoSession
		}
		tok := staff.Token(c.Value)
		m, err := b.svc.Staff.Authenticate(r.Context(), tok)
		if errors.Is(err, staff.ErrNoSession) {
			return errNoSession
		}
		if err != nil {
			return err
		}
		if !staff.Allowed(m.Role, perm) {
			return errForbidden
		}
		return h(rw, r, current{Member: m, tok: tok})
	}
}

// cookieName is the staff cookie's name: __Host-pforte_staff, apart from
// the portal's __Host-pforte_session.
func (b *base) cookieName() string {
	if b.cfg.InsecureCookies {
		return "pforte_staff"
	}
	return "__Host-pforte_staff"
}

func (b *base) setCookie(rw http.ResponseWriter, value string, maxAge int) {
	http.SetCookie(rw, &http.Cookie{Name: b.cookieName(), Value: value, Path: "/", MaxAge: maxAge,
		Secure: !b.cfg.InsecureCookies, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// asset serves one embedded file.
func (b *base) asset(name, contentType string) http.Handler {
	body, err := staticFS.ReadFile(name)
	if err != nil {
		panic("backoffice: missing asset " + name)
	}
	return b.cop.Handler(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if !b.allowed(r) {
			http.Error(rw, "Das Backoffice ist von diesem Netz aus nicht erreichbar.", http.StatusForbidden)
			return
		}
		rw.Header().Set("Content-Type", contentType)
		rw.Header().Set("Cache-Control", "public, max-age=3600")
		rw.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = rw.Write(body)
	}))
}

// link is a link on a page.
type link struct{ Href, Text string }

// view is what every page template gets.
type view struct {
	Title   string
	Insurer string
	Staff   *staff.Member
	Nav     []link
	Notice  string // a line above the page: what the last act did
	Message *message
	Data    any
}

// message is the data of the message page.
type message struct {
	Heading string
	Lines   []string
	Links   []link
	Alert   bool
}

// nav are the links of the header a role may follow.
func nav(m *staff.Member) []link {
	if m == nil {
		return nil
	}
	var out []link
	for _, l := range []struct {
		perm staff.Permission
		link
	}{
		{staff.PermHome, link{"/backoffice/", "Übersicht"}},
		{staff.PermSearch, link{"/backoffice/suche", "Person suchen"}},
		{staff.PermLetterReview, link{"/backoffice/briefe", "Briefe prüfen"}},
		{staff.PermLetterBatches, link{"/backoffice/versand", "Versand"}},
		{staff.PermConfirm, link{"/backoffice/vier-augen", "Vier-Augen-Anträge"}},
		{staff.PermAuditView, link{"/backoffice/protokoll", "Prüfpfad"}},
		{staff.PermHome, link{"/backoffice/sicherheitsschluessel", "Sicherheitsschlüssel"}},
	} {
		if staff.Allowed(m.Role, l.perm) {
			out = append(out, l.link)
		}
	}
	return out
}

// render executes the page into a buffer and writes it with status.
func (b *base) render(rw http.ResponseWriter, status int, name string, v view) error {
	v.Insurer = b.cfg.InsurerName
	v.Nav = nav(v.Staff)
	var buf bytes.Buffer
	if err := b.pages[name].Execute(&buf, v); err != nil {
		return err
	}
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	rw.WriteHeader(status)
	_, _ = buf.WriteTo(rw)
	return nil
}

func redirect(rw http.ResponseWriter, r *http.Request, to string) error {
	http.Redirect(rw, r, to, http.StatusSeeOther)
	return nil
}

// inputError is input of the wrong shape, with the German message for it.
type inputError struct{ msg string }

func (e *inputError) Error() string { return "backoffice: bad input: " + e.msg }

func badInput(msg string) error { return &inputError{msg} }

// errNoReport and errAnswered: the "not me" report is not the person's, or
// was answered already.
var (
	errNoReport = errors.New("backoffice: no such report")
	errAnswered = errors.New("backoffice: report answered")
)

// errNoPerson: the person id names nobody.
var errNoPerson = errors.New("backoffice: no such person")

// answer is the status and German text of a failure.
type answer struct {
	status  int
	heading string
	line    string
}

// answerFor maps an error to what the staff member is told; ok false for
// an unexpected failure.
func answerFor(err error) (answer, bool) {
	var in *inputError
	switch {
	case errors.As(err, &in):
		return answer{http.StatusBadRequest, "Eingabe prüfen", in.msg}, true
	case errors.Is(err, errNetwork):
		return answer{http.StatusForbidden, "Nicht erreichbar", "Das Backoffice ist von diesem Netz aus nicht erreichbar. Bitte nutzen Sie einen Arbeitsplatz im Netz der Krankenkasse."}, true
	case errors.Is(err, errForbidden):
		return answer{http.StatusForbidden, "Keine Berechtigung", "Dafür fehlt Ihrer Rolle die Berechtigung. Es wurde nichts geändert."}, true
	case errors.Is(err, errKeysOff):
		return answer{http.StatusNotFound, "Nicht eingerichtet", "Sicherheitsschlüssel sind in dieser Installation nicht eingerichtet. Melden Sie sich mit Einmalcode an."}, true
	case errors.Is(err, errCorporateOff):
		return answer{http.StatusNotFound, "Nicht eingerichtet", "Die Anmeldung über das Firmenkonto ist in dieser Installation nicht eingerichtet. Melden Sie sich mit Kennung und Passwort an."}, true
	case errors.Is(err, errNoPerson):
		return answer{http.StatusNotFound, "Person nicht gefunden", "Diese Person gibt es nicht."}, true
	case errors.Is(err, errNoReport):
		return answer{http.StatusNotFound, "Meldung nicht gefunden", "Diese Meldung „Das war ich nicht“ gibt es bei dieser Person nicht."}, true
	case errors.Is(err, errAnswered):
		return answer{http.StatusConflict, "Schon beantwortet", "Diese Meldung ist bereits beantwortet."}, true
	case errors.Is(err, staff.ErrNoReason):
		return answer{http.StatusBadRequest, "Begründung fehlt", "Bitte geben Sie eine Begründung an: höchstens " +
			strconv.Itoa(staff.MaxReason) + " Zeichen und ohne KVNR. Es wurde nichts geändert."}, true
	case errors.Is(err, staff.ErrOwnRequest):
		return answer{http.StatusConflict, "Zweite Person nötig", "Ihren eigenen Antrag kann nur eine andere Person bestätigen oder ablehnen. Es wurde nichts geändert."}, true
	case errors.Is(err, staff.ErrDecided):
		return answer{http.StatusConflict, "Schon entschieden", "Über diesen Antrag ist bereits entschieden, oder es gibt ihn nicht."}, true
	case errors.Is(err, device.ErrNotFound):
		return answer{http.StatusNotFound, "Gerät nicht gefunden", "Dieses Gerät ist nicht (mehr) an die Person gebunden. Es wurde nichts geändert."}, true
	case errors.Is(err, device.ErrPINNotLocked):
		return answer{http.StatusConflict, "PIN nicht gesperrt", "Die Freigabe-PIN dieses Geräts ist nicht gesperrt; es gibt nichts zurückzusetzen."}, true
	case errors.Is(err, account.ErrAlreadyStaffLocked):
		return answer{http.StatusConflict, "Schon gesperrt", "Der Zugang dieser Person ist bereits gesperrt. Es wurde nichts geändert."}, true
	case errors.Is(err, account.ErrNotStaffLocked):
		return answer{http.StatusConflict, "Nicht gesperrt", "Der Zugang dieser Person ist nicht gesperrt; es gibt nichts aufzuheben."}, true
	case errors.Is(err, account.ErrNotLocked):
		return answer{http.StatusConflict, "Nicht gesperrt", "Die Anmeldung mit Passwort ist nicht gesperrt; es gibt nichts aufzuheben."}, true
	case errors.Is(err, errNotHandedOver):
		return answer{http.StatusConflict, "Brief nicht versandt", "Dieser Brief der Person wurde nicht (oder nicht mehr) an den Druckdienst übergeben; nur solche Briefe können zurückkommen. Es wurde nichts geändert."}, true
	case errors.Is(err, dispatch.ErrNotInReview):
		return answer{http.StatusConflict, "Brief nicht in Prüfung", "Dieser Brief wartet nicht (mehr) auf eine Prüfung."}, true
	case errors.Is(err, dispatch.ErrExpired):
		return answer{http.StatusConflict, "Brief abgelaufen", "Die Codes dieses Briefs sind abgelaufen. Lehnen Sie ihn ab; die Person kann einen neuen bestellen."}, true
	case errors.Is(err, access.ErrLetterRefused):
		return answer{http.StatusTooManyRequests, "Briefgrenze erreicht", "Diese Person hat in den letzten 30 Tagen schon so viele Briefe bekommen, wie erlaubt sind. Es wurde kein Brief bestellt."}, true
	case errors.Is(err, access.ErrLettersToday):
		return answer{http.StatusTooManyRequests, "Tagesgrenze erreicht", "Heute können keine weiteren Briefe bestellt werden. Bitte versuchen Sie es morgen erneut."}, true
	}
	return answer{}, false
}

// fail answers a failed request: the login page without a session, a page
// with the German message otherwise, logging unexpected causes once.
func (b *base) fail(rw http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, errNoSession) {
		if r.Method == http.MethodGet {
			_ = redirect(rw, r, "/backoffice/anmelden")
			return
		}
		_ = b.render(rw, http.StatusUnauthorized, "message", view{Title: "Nicht angemeldet", Message: &message{Heading: "Nicht angemeldet",
			Lines: []string{"Ihre Sitzung ist abgelaufen oder beendet. Bitte melden Sie sich neu an; es wurde nichts geändert."},
			Links: []link{{"/backoffice/anmelden", "Anmelden"}}, Alert: true}})
		return
	}
	a, ok := answerFor(err)
	if !ok {
		b.logger.Error("backoffice request failed", server.RequestIDAttr(r.Context()), slog.String("path", r.URL.Path), slog.Any("error", err))
		a = answer{http.StatusInternalServerError, "Das hat nicht geklappt", "Ein Fehler ist aufgetreten. Bitte versuchen Sie es erneut."}
	}
	back := []link{{"/backoffice/", "Zur Übersicht"}}
	if err := b.render(rw, a.status, "message", view{Title: a.heading, Message: &message{Heading: a.heading, Lines: []string{a.line},
		Links: back, Alert: true}}); err != nil {
		http.Error(rw, a.line, a.status)
	}
}

// denyCrossOrigin answers a cross-origin form (CSRF) with 403.
func (b *base) denyCrossOrigin(rw http.ResponseWriter, r *http.Request) {
	rw.Header().Set("Content-Security-Policy", csp)
	_ = b.render(rw, http.StatusForbidden, "message", view{Title: "Anfrage abgelehnt", Message: &message{Heading: "Anfrage abgelehnt",
		Lines: []string{"Dieses Formular kam nicht vom Backoffice selbst und wurde deshalb nicht ausgeführt."},
		Links: []link{{"/backoffice/", "Zur Übersicht"}}, Alert: true}})
}
