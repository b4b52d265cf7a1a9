package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"

	"github.com/pforte/pforte/internal/account"
	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/server"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// lockedCookie holds the ticket of a login whose right password met a
// temporary lock, while the phone is asked to confirm it.
const lockedCookie = "pforte_locked"

// lockedPage is the data of the page a temporarily locked account's owner sees
// after the right password.
type lockedPage struct {
	Until   string // when the lock ends, in words
	Next    string // the "weiter" key
	Number  int    // the number to tap while the phone is asked (0: not asked)
	Expires string // when the phone's request expires
	Expired bool   // the phone did not confirm in time
	TooMany bool   // too many unanswered requests: the phone was not asked
}

// lockedLogin answers the right password during a lock: the page says the
// account is locked and until when, and with a usable phone it asks the phone
// to confirm the login (portal.login with number matching), which passes the
// lock. Only the password's owner gets here: a wrong password during the lock
// gets the generic failure (package account).
func (w *loginPages) lockedLogin(rw http.ResponseWriter, r *http.Request, l *account.LockedError, next string) error {
	lg := w.language(r)
	page := lockedPage{Until: lg.DateTime(l.Until), Next: next}
	usable, err := w.usableDevice(r.Context(), l.Person, "")
	if err != nil {
		return err
	}
	if usable {
		text := "Anmeldung im Online-Portal (Konto vorübergehend gesperrt) am " + lang.DateTime(w.cfg.Now())
		data, err := json.Marshal(loginData{Client: "portal", IP: server.ClientIP(r)})
		if err != nil {
			return err
		}
		a, err := w.approvals.Create(r.Context(), l.Person, approval.ActionPortalLogin, text, data, "", "portal", session.LevelLow)
		switch {
		case errors.Is(err, approval.ErrTooManyPending):
			page.TooMany = true
		case errors.Is(err, approval.ErrNoDevice):
		case err != nil:
			return err
		default:
			w.setCookie(rw, lockedCookie, l.Ticket, account.LockedTicketTTL, http.SameSiteLaxMode)
			w.setCookie(rw, stepUpCookie, a.ID, stepUpLifetime, http.SameSiteLaxMode)
			return redirect(rw, r, w.lockedURL(next))
		}
	}
	return w.render(rw, r, http.StatusForbidden, "locked", view{Title: lg.T("web.locked.title"), Data: page})
}

func (w *loginPages) lockedURL(next string) string {
	if w.validNext(next) != "" {
		return "/anmelden/gesperrt?weiter=" + url.QueryEscape(next)
	}
	return "/anmelden/gesperrt"
}

// awaitLockedLogin is the waiting page of a login during a lock: it shows the
// number while the phone's request is pending and logs the person in once the
// phone approved it.
func (w *loginPages) awaitLockedLogin(rw http.ResponseWriter, r *http.Request) error {
	next := w.validNext(r.URL.Query().Get("weiter"))
	back := func() error {
		w.clearCookie(rw, lockedCookie)
		w.clearCookie(rw, stepUpCookie)
		return redirect(rw, r, "/anmelden")
	}
	ticket := w.cookieValue(r, lockedCookie)
	id := w.cookieValue(r, stepUpCookie)
	if ticket == "" || len(ticket) > 64 || !validID(id) {
		return back()
	}
	l, err := w.accounts.LockedLogin(r.Context(), ticket)
	if errors.Is(err, account.ErrLockedTicket) {
		return back()
	}
	if err != nil {
		return err
	}
	a, err := w.approvals.Status(r.Context(), id, l.Person)
	if errors.Is(err, approval.ErrNotFound) || (err == nil && a.Action != approval.ActionPortalLogin) {
		return back()
	}
	if err != nil {
		return err
	}
	if answerProbe(rw, r, a.Status == store.ApprovalPending) {
		return nil
	}
	lg := w.language(r)
	page := lockedPage{Until: lg.DateTime(l.Until), Next: next}
	switch a.Status {
	case store.ApprovalPending:
		page.Number, page.Expires = a.Number, lg.Short(a.ExpiresAt)
		return w.render(rw, r, http.StatusOK, "locked", view{Title: lg.T("web.stepup.title"), Waiting: true, Data: page})
	case store.ApprovalApproved:
		level, err := w.approvals.CompleteLogin(r.Context(), a.ID, l.Person)
		if errors.Is(err, approval.ErrUsed) {
			return back()
		}
		if err != nil {
			return err
		}
		method := a.Method
		if method != "fpt" && method != "face" {
			method = "pin"
		}
		res, err := w.accounts.ConfirmLockedLogin(r.Context(), ticket, level, method, server.ClientIP(r), r.UserAgent())
		if errors.Is(err, account.ErrLockedTicket) {
			return back()
		}
		if err != nil {
			return err
		}
		if old, _, err := w.currentSession(r); err == nil {
			if err := w.sessions.End(r.Context(), old); err != nil {
				return err
			}
		}
		w.clearCookie(rw, lockedCookie)
		w.clearCookie(rw, stepUpCookie)
		w.sessionStarted(rw, res.Token, res.Language)
		if res.Session.MustChangePassword {
			return redirect(rw, r, changeURL(next))
		}
		return redirect(rw, r, w.nextPage(next))
	case store.ApprovalDeclined:
		w.clearCookie(rw, lockedCookie)
		w.clearCookie(rw, stepUpCookie)
		if a.DeclineReason == store.DeclineWrongNumber {
			return w.renderMessage(rw, r, http.StatusForbidden, declinedMessage(lg, a.DeclineReason))
		}
		return w.renderMessage(rw, r, http.StatusForbidden, message{Heading: lg.T("web.declined.title"), Alert: true,
			Lines: []string{lg.T("web.declined.text"), lg.T("web.declined.locked_not_me")},
			Links: []link{{"/passwort-vergessen", lg.T("web.reset.title")}, {"/", lg.T("web.link.start")}}})
	default: // expired
		w.clearCookie(rw, lockedCookie)
		w.clearCookie(rw, stepUpCookie)
		page.Expired = true
		return w.render(rw, r, http.StatusOK, "locked", view{Title: lg.T("web.stepup.expired"), Data: page})
	}
}
