package web

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/server"

	"github.com/pforte/pforte/internal/account"
	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// loginView is the login page; next, when an application's sign-in led
// there, names the application.
func (w *loginPages) loginView(r *http.Request, next string) view {
	page := loginPage{Reason: loginReasons[r.URL.Query().Get("grund")]}
	if next != "" {
		if _, name, ok := w.apps.Client(r.Context(), next); ok {
			page.App = name
		}
	}
	return view{Title: "Anmelden", Data: page}
}

// loginForm shows the login form; "weiter" names where a login continues
// (an application's sign-in).
func (w *loginPages) loginForm(rw http.ResponseWriter, r *http.Request) error {
	next := w.validNext(r.URL.Query().Get("weiter"))
	v := w.loginView(r, next)
	v.Form = &form{values: map[string]string{"weiter": next}}
	return w.render(rw, r, http.StatusOK, "login", v)
}

// loginPage is the data of the login page: the application that asks, if
// one does, and why an earlier session is gone, if it is.
type loginPage struct{ App, Reason string }

// login checks KVNR and password and starts a browser session.
func (w *loginPages) login(rw http.ResponseWriter, r *http.Request) error {
	values, err := decodeForm(rw, r, "kvnr", "password", "weiter")
	if err != nil {
		return err
	}
	next := w.validNext(values["weiter"])
	values["weiter"] = next
	if ok, wait := w.limiter.Allow(r); !ok {
		return rateLimited(wait)
	}
	v := w.loginView(r, next)
	v.Form = keep(values)
	res, err := w.accounts.Login(r.Context(), account.Login{KVNR: values["kvnr"], Password: values["password"],
		ClientIP: server.ClientIP(r), UserAgent: r.UserAgent()}, session.KindBrowser)
	if locked := (*account.LockedError)(nil); errors.As(err, &locked) {
		return w.lockedLogin(rw, r, locked, next)
	}
	if err != nil {
		return &formFailed{"login", v, err}
	}
	// A login over a live session (an application asked for a new login)
	// replaces it: the old session ends.
	if old, _, err := w.currentSession(r); err == nil {
		if err := w.sessions.End(r.Context(), old); err != nil {
			return err
		}
	}
	w.setCookie(rw, sessionCookie, string(res.Token), 0, http.SameSiteLaxMode)
	if res.Session.MustChangePassword {
		return redirect(rw, r, changeURL(next))
	}
	// With a bound phone, the session stays low until the phone confirms
	// the login.
	return w.startStepUp(rw, r, res.Token, res.Session, next, true)
}

// logout ends the session (if any) and forgets the cookie.
func (w *loginPages) logout(rw http.ResponseWriter, r *http.Request) error {
	if _, err := decodeForm(rw, r); err != nil {
		return err
	}
	if tok := w.cookieValue(r, sessionCookie); tok != "" && len(tok) <= 128 {
		if err := w.sessions.End(r.Context(), session.Token(tok)); err != nil {
			return err
		}
	}
	w.clearCookie(rw, sessionCookie)
	return redirect(rw, r, "/?hinweis=abgemeldet")
}

// levelWords names the assurance levels for people.
var levelWords = map[string]string{
	string(session.LevelLow):         "normal",
	string(session.LevelSubstantial): "substantiell",
	string(session.LevelHigh):        "hoch",
}

// levelMeanings say in words what reaches a level and what it opens.
var levelMeanings = map[string]string{
	string(session.LevelLow): "Sie haben sich mit Ihrem Passwort angemeldet. Damit sehen Sie Ihr Konto und Ihre Geräte; " +
		"für Ihre persönlichen Daten bestätigen Sie die Anmeldung mit dem Smartphone.",
	string(session.LevelSubstantial): "Sie haben die Anmeldung mit Ihrem Smartphone und der Freigabe-PIN bestätigt. " +
		"Damit sehen und ändern Sie Ihre persönlichen Daten; jede Änderung geben Sie in der Service-App frei.",
	string(session.LevelHigh): "Sie haben sich mit dem Online-Ausweis angemeldet, oder mit einem Smartphone, das mit dem " +
		"Online-Ausweis oder der Gesundheitskarte verbunden wurde. Das ist die höchste Stufe.",
}

// levelWord names a level for people ("normal", "substantiell", "hoch").
func levelWord(level string) string {
	if w, ok := levelWords[level]; ok {
		return w
	}
	return level
}

// originWords name a session's origin for people: what it was started with.
var originWords = map[string]string{
	string(session.OriginPassword): "Passwort",
	string(session.OriginLetter):   "Brief (Erstpasswort oder Rücksetzcode)",
	string(session.OriginEID):      "Online-Ausweis",
	string(session.OriginDevice):   "Smartphone (Service-App)",
	string(session.OriginEGK):      "Gesundheitskarte",
}

// originWord names an origin for people; an unknown one shows as it is.
func originWord(origin string) string {
	if w, ok := originWords[origin]; ok {
		return w
	}
	return origin
}

// sessionRow is one line of the session list.
type sessionRow struct {
	ID       string // session.ID, for ending it
	Kind     string
	Client   string // browser and system, in words
	Origin   string // what the session was started with, in words
	Since    string
	LastSeen string
	Current  bool
}

// historyRow is one line of the sign-in history.
type historyRow struct {
	At      string
	Kind    string
	Client  string // browser and system, or the phone's name
	Method  string
	Outcome string
	Failed  bool
}

// outcomeWords name a sign-in's outcome for people.
var outcomeWords = map[string]string{
	session.OutcomeOK:     "angemeldet",
	session.OutcomeFailed: "fehlgeschlagen (falsches Passwort oder falsche PIN)",
	session.OutcomeLocked: "fehlgeschlagen, Zugang gesperrt",
}

// letterRow is one of the person's letters on the account page.
type letterRow struct {
	Date, What, Status string
	Problem            bool // it will not arrive: the status says what to do
}

// letterKinds name letters for people, by kind (package letter).
var letterKinds = map[string]string{
	"password":         "Zugangsdaten (Initialpasswort und QR-Code)",
	"activation":       "QR-Code für die Service-App",
	"password_reset":   "Code für ein neues Passwort",
	"device_bound":     "Hinweis: neues Smartphone verbunden",
	"device_removed":   "Hinweis: Smartphone entfernt",
	"password_changed": "Hinweis: Passwort geändert",
	"address_changed":  "Hinweis: Anschrift geändert",
	"bank_changed":     "Hinweis: Bankverbindung geändert",
	"pin_locked":       "Hinweis: Freigabe-PIN gesperrt",
	"login_locked":     "Hinweis: Anmeldung gesperrt",
}

// letterStatus says where a letter is and, when it will not arrive, what
// the person can do.
func letterStatus(l store.Letter) (string, bool) {
	switch l.Status {
	case store.LetterReview:
		return "Wird vor dem Versand geprüft, weil Ihre Anschrift bei uns noch nicht bestätigt ist. Das kann einige Werktage dauern.", false
	case store.LetterQueued:
		return "Wird gedruckt und verschickt.", false
	case store.LetterHandedOver:
		return "Am " + lang.Date(l.UpdatedAt) + " zur Post gegeben; in der Regel drei bis fünf Werktage unterwegs.", false
	case store.LetterSuperseded:
		return "Durch einen neueren Brief ersetzt; sein Code gilt nicht mehr.", false
	case store.LetterReturned:
		return "Kam als unzustellbar zurück; sein Code gilt nicht mehr. Bitte teilen Sie uns Ihre aktuelle Anschrift mit.", true
	case store.LetterRejected:
		return "Nicht verschickt: Ihre Anschrift konnte nicht bestätigt werden. Bitte rufen Sie uns an, oder nutzen Sie den Online-Ausweis.", true
	}
	return string(l.Status), false
}

// letterRows are the person's newest letters, at most max.
func letterRows(list []store.Letter, max int) []letterRow {
	var rows []letterRow
	for _, l := range list[:min(len(list), max)] {
		what, ok := letterKinds[l.Kind]
		if !ok {
			what = "Brief"
		}
		status, problem := letterStatus(l)
		rows = append(rows, letterRow{Date: lang.Date(l.CreatedAt), What: what, Status: status, Problem: problem})
	}
	return rows
}

// kindWord names a session kind for people.
func kindWord(kind string) string {
	if kind == session.KindApp {
		return "App"
	}
	return "Browser"
}

// overviewPage is the data of the account page.
type overviewPage struct {
	Name     string
	Level    string
	Notice   string
	Sessions []sessionRow
	History  []historyRow
	Letters  []letterRow
	Meaning  string // what the level means, in words
	Days     int    // how far back History reaches
	// CanStepUp: the session is below the personal data's level and a
	// phone can confirm it.
	CanStepUp bool
	Need      string // the personal data's level, in words
}

// overview shows the account page.
func (w *accountPages) overview(rw http.ResponseWriter, r *http.Request, tok session.Token, s store.Session) error {
	p, err := w.persons.PersonByID(r.Context(), s.PersonID)
	if err != nil {
		return err
	}
	list, err := w.sessions.List(r.Context(), s.PersonID)
	if err != nil {
		return err
	}
	events, err := w.sessions.History(r.Context(), s.PersonID)
	if err != nil {
		return err
	}
	letters, err := w.persons.PersonLetters(r.Context(), s.PersonID)
	if err != nil {
		return err
	}
	page := overviewPage{Name: displayName(p), Level: levelWord(s.Level), Days: session.HistoryDays, Letters: letterRows(letters, 10),
		Meaning: levelMeanings[s.Level]}
	if !w.levelOK(s, approval.ActionPersonalView) {
		need := w.approvals.Policy()[approval.ActionPersonalView].Level
		page.Need = levelWord(need)
		if page.CanStepUp, err = w.usableDevice(r.Context(), s.PersonID, need); err != nil {
			return err
		}
	}
	switch r.URL.Query().Get("hinweis") {
	case "passwort":
		page.Notice = "Ihr Passwort wurde geändert. Alle anderen Sitzungen wurden beendet."
	case "sitzung":
		page.Notice = "Die Sitzung wurde beendet. Wer sie benutzt hat, muss sich neu anmelden."
	case "neues-passwort":
		page.Notice = "Ihr neues Passwort gilt ab jetzt. Alle anderen Sitzungen wurden beendet; verbundene Smartphones bleiben verbunden."
	case "passwort-festgelegt":
		page.Notice = "Ihr Passwort ist gespeichert. Sie melden sich künftig mit Ihrer Versichertennummer und diesem Passwort an; " +
			"andere Sitzungen wurden beendet."
	}
	mine := tok.Hash()
	for _, ls := range list {
		page.Sessions = append(page.Sessions, sessionRow{ID: session.ID(ls), Kind: kindWord(ls.Kind), Client: uaSummary(ls.UserAgent),
			Origin: originWord(ls.Origin), Since: lang.Short(ls.CreatedAt), LastSeen: lang.Short(ls.LastSeenAt),
			Current: subtle.ConstantTimeCompare(ls.TokenHash, mine) == 1})
	}
	for _, e := range events {
		client := uaSummary(e.UserAgent)
		if e.DeviceName != "" {
			client = "Smartphone „" + e.DeviceName + "“"
		}
		page.History = append(page.History, historyRow{At: lang.Short(e.At), Kind: kindWord(e.Kind), Client: client,
			Method: originWord(e.Method), Outcome: outcomeWords[e.Outcome], Failed: e.Outcome != session.OutcomeOK})
	}
	return w.render(rw, r, http.StatusOK, "account", view{Title: "Mein Konto", LoggedIn: true, Data: page})
}

// endSession ends one of the person's sessions from the account page;
// ending the current one is a logout.
func (w *accountPages) endSession(rw http.ResponseWriter, r *http.Request, tok session.Token, s store.Session) error {
	if _, err := decodeForm(rw, r); err != nil {
		return err
	}
	id := r.PathValue("id")
	if id == session.ID(s) {
		if err := w.sessions.End(r.Context(), tok); err != nil {
			return err
		}
		w.clearCookie(rw, sessionCookie)
		return redirect(rw, r, "/?hinweis=abgemeldet")
	}
	if err := w.sessions.EndByID(r.Context(), s.PersonID, id); errors.Is(err, session.ErrNotYours) {
		// Ended meanwhile (or never the person's): the list shows what is.
		return redirect(rw, r, "/konto#sitzungen")
	} else if err != nil {
		return err
	}
	return redirect(rw, r, "/konto?hinweis=sitzung#sitzungen")
}

// displayName is the person's name for a greeting: title, given names,
// family name.
func displayName(p store.Person) string {
	return strings.Join(strings.Fields(p.Title+" "+p.GivenNames+" "+p.FamilyName), " ")
}

// changePage is the data of the change-password page.
type changePage struct{ Initial bool }

func changeView(s store.Session) view {
	return view{Title: "Passwort ändern", LoggedIn: true, Data: changePage{Initial: s.MustChangePassword}}
}

// changeURL is the change-password page, carrying where to continue (an
// application's sign-in that the first login interrupted).
func changeURL(next string) string {
	if next == "" {
		return "/passwort-aendern"
	}
	return "/passwort-aendern?weiter=" + url.QueryEscape(next)
}

// changePasswordForm shows the form.
func (w *accountPages) changePasswordForm(rw http.ResponseWriter, r *http.Request, _ session.Token, s store.Session) error {
	v := changeView(s)
	v.Form = &form{values: map[string]string{"weiter": w.validNext(r.URL.Query().Get("weiter"))}}
	return w.render(rw, r, http.StatusOK, "change-password", v)
}

// changePassword replaces the password after checking the current one.
func (w *accountPages) changePassword(rw http.ResponseWriter, r *http.Request, tok session.Token, s store.Session) error {
	values, err := decodeForm(rw, r, "current_password", "new_password", "new_password_repeat", "weiter")
	if err != nil {
		return err
	}
	next := w.validNext(values["weiter"])
	values["weiter"] = next
	v := changeView(s)
	v.Form = keep(values)
	var problems fieldProblems
	if values["current_password"] == "" {
		problems = append(problems, fieldError{"current_password", "Bitte geben Sie Ihr bisheriges Passwort ein."})
	}
	if err, ok := requireRepeat(values).(fieldProblems); ok {
		problems = append(problems, err...)
	}
	if len(problems) > 0 {
		return &formFailed{"change-password", v, problems}
	}
	if err := w.accounts.ChangePassword(r.Context(), tok, s, values["current_password"], values["new_password"], server.ClientIP(r)); err != nil {
		return &formFailed{"change-password", v, err}
	}
	if next != "" {
		return redirect(rw, r, w.nextPage(next))
	}
	return redirect(rw, r, "/konto?hinweis=passwort")
}
