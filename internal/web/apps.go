package web

import (
	"context"
	"errors"
	"net/http"

	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// Applications lets the portal's login lead back to the sign-in of another
// insurer application (package oidc): its "weiter" keys name a pending
// authorization request.
type Applications interface {
	// Continue returns where the login continues for the key next, and
	// false if next is not an application's key.
	Continue(next string) (string, bool)
	// Cancel returns where the person abandons that sign-in.
	Cancel(next string) (string, bool)
	// Client returns the id and the name (shown to persons) of the
	// application whose sign-in the key next continues.
	Client(ctx context.Context, next string) (id, name string, ok bool)
}

// EnableApplications adds the sign-in of other applications to the login
// and step-up pages. Call it before Routes.
func (w *Web) EnableApplications(apps Applications) { w.apps = apps }

// Session returns the live portal session of r's cookie (for package oidc).
func (w *Web) Session(r *http.Request) (store.Session, bool) {
	_, s, err := w.currentSession(r)
	return s, err == nil
}

// EndSession ends r's portal session, if any, and clears its cookie on rw
// (RP-initiated logout).
func (w *Web) EndSession(rw http.ResponseWriter, r *http.Request) error {
	tok, _, err := w.currentSession(r)
	if errors.Is(err, errUnauthenticated) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := w.sessions.End(r.Context(), tok); err != nil {
		return err
	}
	w.clearCookie(rw, sessionCookie)
	w.clearCookie(rw, stepUpCookie)
	return nil
}

// higher is the page an application's sign-in shows when the session is
// below the level the application asked for ("niveau"): it offers the phone
// confirmation, or explains that none can reach the level, and always a way
// back to the application.
func (w *Web) higher(rw http.ResponseWriter, r *http.Request, _ session.Token, s store.Session) error {
	next := w.validNext(r.URL.Query().Get("weiter"))
	level := session.Level(r.URL.Query().Get("niveau"))
	if next == "" || level.Rank() == 0 || w.apps == nil {
		return redirect(rw, r, "/konto")
	}
	if session.Level(s.Level).Rank() >= level.Rank() {
		return redirect(rw, r, w.nextPage(next))
	}
	cancel, _ := w.apps.Cancel(next)
	return w.renderNeedPhone(rw, r, s, next, string(level), cancel)
}
