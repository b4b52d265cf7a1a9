package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/device"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/profile"
	"github.com/pforte/pforte/internal/server"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// Approvals asks the person's phone to confirm a portal login (package
// approval).
type Approvals interface {
	// Create asks the person's bound devices to approve action:
	// approval.ErrNoDevice without one, approval.ErrTooManyPending when too
	// many login requests are open (push fatigue).
	Create(ctx context.Context, person store.PersonID, action, text string, data []byte, level, client string,
		sessionLevel session.Level) (store.Approval, error)
	// Status returns the person's request, expired once past its expiry;
	// approval.ErrNotFound also for someone else's.
	Status(ctx context.Context, id string, person store.PersonID) (store.Approval, error)
	// CompleteLogin uses an approved portal.login request once and returns
	// the level of the binding that approved it: approval.ErrUsed,
	// ErrNotApproved, ErrExpired, ErrNotFound.
	CompleteLogin(ctx context.Context, id string, person store.PersonID) (session.Level, error)
	// Policy returns the table of what each action needs.
	Policy() approval.Policy
}

// Profile shows and changes the person's data through phone approvals
// (package profile). A malformed change is a *profile.InvalidError.
type Profile interface {
	View(ctx context.Context, id store.PersonID) (profile.View, error)
	// RequestAddressChange and RequestBankChange ask the phone;
	// approval.ErrSessionLevel when the session is below the action's
	// policy level.
	RequestAddressChange(ctx context.Context, id store.PersonID, a profile.Address, client string, sessionLevel session.Level) (store.Approval, error)
	RequestBankChange(ctx context.Context, id store.PersonID, iban, client string, sessionLevel session.Level) (store.Approval, error)
	// Status returns the person's request; it only reads.
	Status(ctx context.Context, approvalID string, id store.PersonID) (store.Approval, error)
	// RequestDeviceRemoval removes one of the session's person's phones:
	// at once after a fresh eID identification, otherwise through an
	// approval on a bound phone (approval.ErrSessionLevel below the
	// policy's level); device.ErrNotFound for a phone not theirs.
	RequestDeviceRemoval(ctx context.Context, sess store.Session, dev store.DeviceID, client, clientIP string) (profile.Removal, error)
}

// Devices lists and renames the person's bound phones (package device).
type Devices interface {
	// List returns the person's bound devices, oldest first.
	List(ctx context.Context, id store.PersonID) ([]store.Device, error)
	// Rename renames one of them: device.ErrNotFound for another person's or
	// a removed device, *device.InvalidError for a bad name.
	Rename(ctx context.Context, id store.PersonID, dev store.DeviceID, name string) error
}

// stepUpCookie holds the id of the portal.login request the browser waits
// for.
const stepUpCookie = "pforte_stepup"

// stepUpLifetime bounds the step-up cookie; the request itself expires sooner.
const stepUpLifetime = 10 * time.Minute

// nextPages are where a confirmed step-up may continue (the "weiter"
// parameter); with EnableApplications also the sign-in of another
// application ("app-<request id>"); anything else continues at /konto.
var nextPages = map[string]string{"daten": "/daten", "geraete": "/geraete", "postfach": "/postfach", "familie": "/familie"}

// nextPath returns where the key next leads, and false for an unknown key.
func (w *base) nextPath(next string) (string, bool) {
	if p, ok := nextPages[next]; ok {
		return p, true
	}
	return w.apps.Continue(next)
}

func (w *base) nextPage(key string) string {
	if p, ok := w.nextPath(key); ok {
		return p
	}
	return "/konto"
}

// validNext returns next if it is a known key, else "".
func (w *base) validNext(next string) string {
	if _, ok := w.nextPath(next); ok {
		return next
	}
	return ""
}

// stepUpURL is the waiting page, carrying where to continue.
func (w *base) stepUpURL(next string) string {
	if w.validNext(next) != "" {
		return "/anmelden/freigabe?weiter=" + url.QueryEscape(next)
	}
	return "/anmelden/freigabe"
}

// validID reports whether s can be an approval or device id: base64url with a
// prefix, at most 64 characters.
func validID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') && r != '_' && r != '-' {
			return false
		}
	}
	return true
}

// usableDevice reports whether the person has a bound device of at least
// level (empty: any) whose PIN is not locked, so a phone confirmation can
// reach that level.
func (w *base) usableDevice(ctx context.Context, id store.PersonID, level string) (bool, error) {
	devs, err := w.devices.List(ctx, id)
	if err != nil {
		return false, err
	}
	for _, d := range devs {
		if d.PINLockedAt.IsZero() && session.Level(d.Level).Rank() >= session.Level(level).Rank() {
			return true, nil
		}
	}
	return false, nil
}

// loginData is the data a portal.login request carries (and the phone signs).
type loginData struct {
	Client string `json:"client"`
	IP     string `json:"ip"`
}

// startStepUp asks the person's phone to confirm the session and sends the
// browser to the waiting page. afterLogin: the password login just created
// the session, so a refusal for push fatigue ends it, and a person without a
// usable phone simply continues at level low.
func (w *loginPages) startStepUp(rw http.ResponseWriter, r *http.Request, tok session.Token, s store.Session, next string, afterLogin bool) error {
	usable, err := w.usableDevice(r.Context(), s.PersonID, "")
	if err != nil {
		return err
	}
	if !usable {
		if afterLogin {
			return redirect(rw, r, w.nextPage(next))
		}
		return approval.ErrNoDevice
	}
	// The phone shows, and signs, which application the login is for.
	client, asker := "portal", "portal"
	text := "Anmeldung im Online-Portal am " + lang.DateTime(w.cfg.Now())
	if id, name, ok := w.apps.Client(r.Context(), next); ok {
		client, asker = id, "client:"+id
		text = "Anmeldung bei „" + name + "“ über das Online-Portal am " + lang.DateTime(w.cfg.Now())
	}
	data, err := json.Marshal(loginData{Client: client, IP: server.ClientIP(r)})
	if err != nil {
		return err
	}
	a, err := w.approvals.Create(r.Context(), s.PersonID, approval.ActionPortalLogin, text, data, "", asker, session.Level(s.Level))
	switch {
	case errors.Is(err, approval.ErrTooManyPending) && afterLogin:
		if err := w.sessions.End(r.Context(), tok); err != nil {
			return err
		}
		w.clearCookie(rw, sessionCookie)
		return err
	case errors.Is(err, approval.ErrNoDevice) && afterLogin:
		return redirect(rw, r, w.nextPage(next)) // the last phone went away meanwhile
	case err != nil:
		return err
	}
	w.setCookie(rw, stepUpCookie, a.ID, stepUpLifetime, http.SameSiteLaxMode)
	return redirect(rw, r, w.stepUpURL(next))
}

// requestStepUp starts a phone confirmation for a session that is already
// there (from the account page or a page that needs a higher level).
func (w *loginPages) requestStepUp(rw http.ResponseWriter, r *http.Request, tok session.Token, s store.Session) error {
	values, err := decodeForm(rw, r, "weiter")
	if err != nil {
		return err
	}
	return w.startStepUp(rw, r, tok, s, values["weiter"], false)
}

// stepUpPage is the data of the waiting page of a login confirmation.
type stepUpPage struct {
	Number  int
	Next    string // the "weiter" key, kept across reloads
	Until   string
	Expired bool
	Level   string // the session's level, in words
}

// awaitStepUp is the waiting page: it shows the number to tap while the
// request is pending and raises the session once the phone approved it.
func (w *loginPages) awaitStepUp(rw http.ResponseWriter, r *http.Request, tok session.Token, s store.Session) error {
	next := w.validNext(r.URL.Query().Get("weiter"))
	id := w.cookieValue(r, stepUpCookie)
	if !validID(id) {
		w.clearCookie(rw, stepUpCookie)
		return redirect(rw, r, w.nextPage(next))
	}
	a, err := w.approvals.Status(r.Context(), id, s.PersonID)
	if errors.Is(err, approval.ErrNotFound) || (err == nil && a.Action != approval.ActionPortalLogin) {
		w.clearCookie(rw, stepUpCookie)
		return redirect(rw, r, w.nextPage(next))
	}
	if err != nil {
		return err
	}
	if answerProbe(rw, r, a.Status == store.ApprovalPending) {
		return nil
	}
	l := w.language(r)
	switch a.Status {
	case store.ApprovalPending:
		return w.render(rw, r, http.StatusOK, "stepup", view{Title: l.T("web.stepup.title"), LoggedIn: true, Waiting: true,
			Data: stepUpPage{Number: a.Number, Next: next, Until: l.Short(a.ExpiresAt)}})
	case store.ApprovalApproved:
		return w.raise(rw, r, tok, s, a, next)
	case store.ApprovalDeclined:
		if err := w.sessions.End(r.Context(), tok); err != nil {
			return err
		}
		w.clearCookie(rw, stepUpCookie)
		w.clearCookie(rw, sessionCookie)
		return w.renderMessage(rw, r, http.StatusForbidden, declinedMessage(l, a.DeclineReason))
	default: // expired
		w.clearCookie(rw, stepUpCookie)
		return w.render(rw, r, http.StatusOK, "stepup", view{Title: l.T("web.stepup.expired"), LoggedIn: true,
			Data: stepUpPage{Next: next, Expired: true, Level: levelWord(l, s.Level)}})
	}
}

// declinedMessage says why a login on the phone did not go through and
// leads back: a mistapped number is a reason to sign in again, the explicit
// "Das war ich nicht" a reason to change the password.
func declinedMessage(l lang.Language, reason store.DeclineReason) message {
	start := link{"/", l.T("web.link.start")}
	switch reason {
	case store.DeclineWrongNumber:
		return message{Heading: l.T("web.declined.wrong_number"), Alert: true,
			Lines: []string{l.T("web.declined.wrong_number_text")},
			Links: []link{{"/anmelden", l.T("web.link.login_again")}, start}}
	case store.DeclineNotMe:
		return message{Heading: l.T("web.declined.title"), Alert: true,
			Lines: []string{l.T("web.declined.text"), l.T("web.declined.not_me")},
			Links: []link{{"/passwort-vergessen", l.T("web.change.title")}, start}}
	}
	return message{Heading: l.T("web.declined.title"), Alert: true,
		Lines: []string{l.T("web.declined.text")},
		Links: []link{{"/anmelden", l.T("web.link.login_again")}, start}}
}

// raise uses the approved login request once and replaces the session with
// one at the binding's level: a new token on the level change.
func (w *loginPages) raise(rw http.ResponseWriter, r *http.Request, tok session.Token, s store.Session, a store.Approval, next string) error {
	level, err := w.approvals.CompleteLogin(r.Context(), a.ID, s.PersonID)
	if errors.Is(err, approval.ErrUsed) {
		// A parallel request of this browser raised the session.
		w.clearCookie(rw, stepUpCookie)
		return redirect(rw, r, w.nextPage(next))
	}
	if err != nil {
		return err
	}
	if session.Level(s.Level).Rank() > level.Rank() {
		level = session.Level(s.Level) // never lower a session (an eID login is high)
	}
	// What the phone proved, not what its app reported (a.Method).
	next2, _, err := w.sessions.Replace(r.Context(), tok, session.New{PersonID: s.PersonID, Kind: s.Kind, Level: level,
		AMR: append([]string{"pwd"}, device.VerifiedAMR()...), Origin: session.OriginDevice, MustChangePassword: s.MustChangePassword,
		ClientIP: server.ClientIP(r), UserAgent: r.UserAgent()})
	if errors.Is(err, session.ErrNoSession) {
		return errUnauthenticated
	}
	if err != nil {
		return err
	}
	w.clearCookie(rw, stepUpCookie)
	w.setCookie(rw, sessionCookie, string(next2), 0, http.SameSiteLaxMode)
	return redirect(rw, r, w.nextPage(next))
}

// levelOK reports whether the session may do action per the policy table.
func (w *base) levelOK(s store.Session, action string) bool {
	return w.approvals.Policy().Allows(action, session.Level(s.Level))
}

// needPhonePage is the data of the page that asks for a phone confirmation.
type needPhonePage struct {
	HasDevice  bool
	Next       string
	Need, Have string // the levels needed and held, in words
	App        bool   // an application's sign-in asks, not the personal data pages
	Cancel     string // where an application's sign-in is abandoned
	// Back is the page an eID confirmation returns to; empty when the eID
	// cannot serve here (no partner, or an application's sign-in).
	Back string
}

// needPhone answers a request whose session is below the level the page
// needs: with a usable phone it offers the confirmation, without one it
// explains how to connect one.
func (w *base) needPhone(rw http.ResponseWriter, r *http.Request, s store.Session, next string) error {
	return w.renderNeedPhone(rw, r, s, next, w.approvals.Policy()[approval.ActionPersonalView].Level, "")
}

// renderNeedPhone renders the page that asks for a phone confirmation to
// reach level need; cancel is set for an application's sign-in.
func (w *base) renderNeedPhone(rw http.ResponseWriter, r *http.Request, s store.Session, next, need, cancel string) error {
	usable, err := w.usableDevice(r.Context(), s.PersonID, need)
	if err != nil {
		return err
	}
	l := w.language(r)
	page := needPhonePage{HasDevice: usable, Next: next, Need: levelWord(l, need), Have: levelWord(l, s.Level), App: cancel != "", Cancel: cancel}
	if p, ok := nextPages[next]; ok && w.cfg.EIDOrigin != "" && cancel == "" {
		page.Back = p
	}
	return w.render(rw, r, http.StatusForbidden, "need-phone", view{Title: l.T("web.need.title"), LoggedIn: true,
		Data: page})
}

// protected is authenticated for pages that need the level of action
// (approval.ActionPersonalView for the personal data): a lower session gets
// the page that asks for the phone confirmation. next is where a
// confirmation continues.
func (w *base) protected(action, next string, h func(rw http.ResponseWriter, r *http.Request, tok session.Token, s store.Session) error) http.Handler {
	return w.authenticated(func(rw http.ResponseWriter, r *http.Request, tok session.Token, s store.Session) error {
		if !w.levelOK(s, action) {
			return w.needPhone(rw, r, s, next)
		}
		return h(rw, r, tok, s)
	}, false)
}
