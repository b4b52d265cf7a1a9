package web

import (
	"context"
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

// noApplications is the Applications of a portal no other application
// signs in through.
type noApplications struct{}

func (noApplications) Continue(string) (string, bool) { return "", false }
func (noApplications) Cancel(string) (string, bool)   { return "", false }
func (noApplications) Client(context.Context, string) (id, name string, ok bool) {
	return "", "", false
}

// higher is the page an application's sign-in shows when the session is
// below the level the application asked for ("niveau"): it offers the phone
// confirmation, or explains that none can reach the level, and always a way
// back to the application.
func (w *loginPages) higher(rw http.ResponseWriter, r *http.Request, _ session.Token, s store.Session) error {
	next := w.validNext(r.URL.Query().Get("weiter"))
	level := session.Level(r.URL.Query().Get("niveau"))
	if next == "" || level.Rank() == 0 {
		return redirect(rw, r, "/konto")
	}
	if session.Level(s.Level).Rank() >= level.Rank() {
		return redirect(rw, r, w.nextPage(next))
	}
	cancel, _ := w.apps.Cancel(next)
	return w.renderNeedPhone(rw, r, s, next, string(level), cancel)
}
