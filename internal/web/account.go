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
	l := w.language(r)
	page := loginPage{Reason: loginReason(l, r.URL.Query().Get("grund"))}
	if next != "" {
		if _, name, ok := w.apps.Client(r.Context(), next); ok {
			page.App = name
		}
	}
	return view{Title: l.T("web.login.title"), Data: page}
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
	w.sessionStarted(rw, res.Token, res.Language)
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

// levelWord names a level for people ("normal", "substantiell", "hoch");
// an unknown one shows as it is.
func levelWord(l lang.Language, level string) string {
	switch session.Level(level) {
	case session.LevelLow:
		return l.T("web.level.low")
	case session.LevelSubstantial:
		return l.T("web.level.substantial")
	case session.LevelHigh:
		return l.T("web.level.high")
	}
	return level
}

// levelMeaning says in words what reaches a level and what it opens.
func levelMeaning(l lang.Language, level string) string {
	switch session.Level(level) {
	case session.LevelLow:
		return l.T("web.level.low_meaning")
	case session.LevelSubstantial:
		return l.T("web.level.substantial_meaning")
	case session.LevelHigh:
		return l.T("web.level.high_meaning")
	}
	return ""
}

// originWord names a session's origin for people: what it was started
// with; an unknown one shows as it is.
func originWord(l lang.Language, origin string) string {
	switch session.Origin(origin) {
	case session.OriginPassword:
		return l.T("web.origin.password")
	case session.OriginLetter:
		return l.T("web.origin.letter")
	case session.OriginEID:
		return l.T("web.origin.eid")
	case session.OriginDevice:
		return l.T("web.origin.device")
	case session.OriginEGK:
		return l.T("web.origin.egk")
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

// outcomeWord names a sign-in's outcome for people.
func outcomeWord(l lang.Language, outcome string) string {
	switch outcome {
	case session.OutcomeOK:
		return l.T("web.outcome.ok")
	case session.OutcomeFailed:
		return l.T("web.outcome.failed")
	case session.OutcomeLocked:
		return l.T("web.outcome.locked")
	}
	return outcome
}

// letterRow is one of the person's letters on the account page.
type letterRow struct {
	Date, What, Status string
	Problem            bool // it will not arrive: the status says what to do
}

// letterKind names a letter for people, by kind (package letter).
func letterKind(l lang.Language, kind string) string {
	switch kind {
	case "password":
		return l.T("web.letter.password")
	case "activation":
		return l.T("web.letter.activation")
	case "password_reset":
		return l.T("web.letter.password_reset")
	case "device_bound":
		return l.T("web.letter.device_bound")
	case "device_removed":
		return l.T("web.letter.device_removed")
	case "password_changed":
		return l.T("web.letter.password_changed")
	case "address_changed":
		return l.T("web.letter.address_changed")
	case "bank_changed":
		return l.T("web.letter.bank_changed")
	case "pin_locked":
		return l.T("web.letter.pin_locked")
	case "login_locked":
		return l.T("web.letter.login_locked")
	}
	return l.T("web.account.letter")
}

// letterStatus says where a letter is and, when it will not arrive, what
// the person can do.
func letterStatus(l lang.Language, lt store.Letter) (string, bool) {
	switch lt.Status {
	case store.LetterReview:
		return l.T("web.letter.review"), false
	case store.LetterQueued:
		return l.T("web.letter.queued"), false
	case store.LetterHandedOver:
		return l.T("web.letter.handed_over", l.Date(lt.UpdatedAt)), false
	case store.LetterSuperseded:
		return l.T("web.letter.superseded"), false
	case store.LetterReturned:
		return l.T("web.letter.returned"), true
	case store.LetterRejected:
		return l.T("web.letter.rejected"), true
	}
	return string(lt.Status), false
}

// letterRows are the person's newest letters, at most max.
func letterRows(l lang.Language, list []store.Letter, max int) []letterRow {
	var rows []letterRow
	for _, lt := range list[:min(len(list), max)] {
		status, problem := letterStatus(l, lt)
		rows = append(rows, letterRow{Date: l.Date(lt.CreatedAt), What: letterKind(l, lt.Kind), Status: status, Problem: problem})
	}
	return rows
}

// kindWord names a session kind for people.
func kindWord(l lang.Language, kind string) string {
	if kind == session.KindApp {
		return l.T("web.kind.app")
	}
	return l.T("web.kind.browser")
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
	l := w.language(r)
	page := overviewPage{Name: displayName(p), Level: levelWord(l, s.Level), Days: session.HistoryDays, Letters: letterRows(l, letters, 10),
		Meaning: levelMeaning(l, s.Level)}
	if !w.levelOK(s, approval.ActionPersonalView) {
		need := w.approvals.Policy()[approval.ActionPersonalView].Level
		page.Need = levelWord(l, need)
		if page.CanStepUp, err = w.usableDevice(r.Context(), s.PersonID, need); err != nil {
			return err
		}
	}
	switch r.URL.Query().Get("hinweis") {
	case "passwort":
		page.Notice = l.T("web.account.notice_password")
	case "sitzung":
		page.Notice = l.T("web.account.notice_session")
	case "neues-passwort":
		page.Notice = l.T("web.account.notice_new_password")
	case "passwort-festgelegt":
		page.Notice = l.T("web.account.notice_password_set")
	}
	mine := tok.Hash()
	for _, ls := range list {
		page.Sessions = append(page.Sessions, sessionRow{ID: session.ID(ls), Kind: kindWord(l, ls.Kind), Client: uaSummary(l, ls.UserAgent),
			Origin: originWord(l, ls.Origin), Since: l.Short(ls.CreatedAt), LastSeen: l.Short(ls.LastSeenAt),
			Current: subtle.ConstantTimeCompare(ls.TokenHash, mine) == 1})
	}
	for _, e := range events {
		client := uaSummary(l, e.UserAgent)
		if e.DeviceName != "" {
			client = l.T("web.account.phone", e.DeviceName)
		}
		page.History = append(page.History, historyRow{At: l.Short(e.At), Kind: kindWord(l, e.Kind), Client: client,
			Method: originWord(l, e.Method), Outcome: outcomeWord(l, e.Outcome), Failed: e.Outcome != session.OutcomeOK})
	}
	return w.render(rw, r, http.StatusOK, "account", view{Title: l.T("web.nav.account"), LoggedIn: true, Data: page})
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

func changeView(l lang.Language, s store.Session) view {
	return view{Title: l.T("web.change.title"), LoggedIn: true, Data: changePage{Initial: s.MustChangePassword}}
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
	v := changeView(w.language(r), s)
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
	l := w.language(r)
	v := changeView(l, s)
	v.Form = keep(values)
	var problems fieldProblems
	if values["current_password"] == "" {
		problems = append(problems, fieldError{"current_password", l.T("web.change.current_missing")})
	}
	if err, ok := requireRepeat(l, values).(fieldProblems); ok {
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
