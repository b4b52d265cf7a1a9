package oidc

import (
	"context"
	"crypto/subtle"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// NextPrefix starts the portal's "weiter" key that leads back here after a
// login or phone confirmation: "app-" followed by the request id.
const NextPrefix = "app-"

// loginGlue connects authorization requests to the portal's own login: it
// completes a request with the browser's portal session, sends the browser
// to the portal's login or phone confirmation when that session does not
// do, and releases the code only to the browser that logged in.
type loginGlue struct {
	st         Store
	clients    *clients
	browser    Browser
	authorizer op.Authorizer // op's, to send a refusal back to the client
	clock      clock
	rec        recorder
	logger     *slog.Logger
}

// Continue returns where the portal continues with the "weiter" key next,
// and false if next is not one of ours.
func (g *loginGlue) Continue(next string) (string, bool) {
	if len(next) <= len(NextPrefix) || next[:len(NextPrefix)] != NextPrefix || !validRequestID(next[len(NextPrefix):]) {
		return "", false
	}
	return loginPath + "?id=" + next[len(NextPrefix):], true
}

// Cancel returns where a person abandons the sign-in of the "weiter" key
// next: the application is told access_denied.
func (g *loginGlue) Cancel(next string) (string, bool) {
	if _, ok := g.Continue(next); !ok {
		return "", false
	}
	return cancelPath + "?id=" + next[len(NextPrefix):], true
}

// Client returns the id and name of the client whose pending request the
// "weiter" key next names: the phone's login confirmation shows the name.
func (g *loginGlue) Client(ctx context.Context, next string) (string, string, bool) {
	path, ok := g.Continue(next)
	if !ok {
		return "", "", false
	}
	req, err := g.st.AuthRequestByID(ctx, path[len(loginPath+"?id="):], g.clock.now())
	if err != nil {
		return "", "", false
	}
	c, ok := g.clients.byID[req.ClientID]
	if !ok {
		return "", "", false
	}
	return c.cfg.ID, c.cfg.Name, true
}

// errAlreadyDone ends a completion race: the request was completed already.
var errAlreadyDone = errors.New("oidc: auth request already completed")

// login is the login glue op redirects to: it completes the request with the
// browser's portal session when that session is fresh enough (prompt=login,
// max_age) and at the level the client asked for, and otherwise sends the
// browser to the portal's login or phone confirmation, which come back here.
func (g *loginGlue) login(rw http.ResponseWriter, r *http.Request) {
	id := r.Form.Get("id")
	if !validRequestID(id) {
		g.loginFailed(rw, r)
		return
	}
	now := g.clock.now()
	req, err := g.st.AuthRequestByID(r.Context(), id, now)
	if err != nil || !req.DoneAt.IsZero() {
		g.loginFailed(rw, r)
		return
	}
	c, ok := g.clients.byID[req.ClientID]
	if !ok {
		g.loginFailed(rw, r)
		return
	}
	level, _ := c.levelFor(req.ACRValues)
	promptNone := slices.Contains(req.Prompt, oidc.PromptNone)
	sess, live := g.browser.Session(r)
	// A login during this request satisfies prompt=login and any max_age
	// (op turns prompt=login into max_age 0).
	loggedInSince := live && !sess.CreatedAt.Before(req.CreatedAt)
	fresh := live && !sess.MustChangePassword &&
		(!slices.Contains(req.Prompt, oidc.PromptLogin) || loggedInSince) &&
		(req.MaxAge < 0 || loggedInSince || now.Sub(sess.CreatedAt) <= time.Duration(req.MaxAge)*time.Second)
	switch {
	case !fresh && promptNone:
		g.refuse(rw, r, req, oidc.ErrLoginRequired())
		return
	case !fresh && live && sess.MustChangePassword:
		http.Redirect(rw, r, "/passwort-aendern?weiter="+url.QueryEscape(NextPrefix+id), http.StatusSeeOther)
		return
	case !fresh:
		http.Redirect(rw, r, "/anmelden?weiter="+url.QueryEscape(NextPrefix+id), http.StatusSeeOther)
		return
	case session.Level(sess.Level).Rank() < level.Rank() && promptNone:
		g.refuse(rw, r, req, oidc.ErrInteractionRequired())
		return
	case session.Level(sess.Level).Rank() < level.Rank():
		http.Redirect(rw, r, "/anmelden/hoeher?weiter="+url.QueryEscape(NextPrefix+id)+"&niveau="+string(level), http.StatusSeeOther)
		return
	}
	amr := slices.Clone(sess.AMR)
	if len(amr) >= 2 && !slices.Contains(amr, "mfa") {
		amr = append(amr, "mfa")
	}
	_, err = g.st.UpdateAuthRequest(r.Context(), id, func(ar *store.AuthRequest) error {
		if !ar.DoneAt.IsZero() {
			return errAlreadyDone
		}
		ar.PersonID = sess.PersonID
		ar.SessionHash = sess.TokenHash
		ar.AuthTime = sess.CreatedAt
		ar.ACR = session.Level(sess.Level).ACR()
		ar.AMR = amr
		ar.DoneAt = now
		return nil
	})
	if err != nil {
		if !errors.Is(err, errAlreadyDone) && !errors.Is(err, store.ErrNotFound) {
			g.logger.ErrorContext(r.Context(), "oidc: complete auth request", "error", err.Error())
		}
		g.loginFailed(rw, r)
		return
	}
	g.rec.record(r.Context(), audit.Event{Actor: personRef(sess.PersonID), Event: "oidc.login", Subject: personRef(sess.PersonID),
		Details: map[string]any{"client": c.cfg.ID, "request": id, "level": sess.Level}})
	http.Redirect(rw, r, callbackPath+"?id="+id, http.StatusSeeOther)
}

// cancel returns the request to its client with access_denied: the person
// abandoned the sign-in (for example, the level cannot be reached).
func (g *loginGlue) cancel(rw http.ResponseWriter, r *http.Request) {
	id := r.Form.Get("id")
	if !validRequestID(id) {
		g.loginFailed(rw, r)
		return
	}
	req, err := g.st.AuthRequestByID(r.Context(), id, g.clock.now())
	if err != nil || !req.DoneAt.IsZero() {
		g.loginFailed(rw, r)
		return
	}
	g.refuse(rw, r, req, oidc.ErrAccessDenied().WithDescription("the person cancelled the sign-in"))
}

// refuse sends the browser back to the client with an OAuth error, and
// completes the request so it cannot be used any more.
func (g *loginGlue) refuse(rw http.ResponseWriter, r *http.Request, req store.AuthRequest, e *oidc.Error) {
	now := g.clock.now()
	_, err := g.st.UpdateAuthRequest(r.Context(), req.ID, func(ar *store.AuthRequest) error {
		if !ar.DoneAt.IsZero() {
			return errAlreadyDone
		}
		ar.DoneAt = now
		ar.ExpiresAt = now
		return nil
	})
	if err != nil {
		g.loginFailed(rw, r)
		return
	}
	op.AuthRequestError(rw, r, &authRequest{r: req}, e, g.authorizer)
}

// callback releases the code only to the browser whose portal session
// completed the request: an authorization request id that leaked (or was
// planted in someone else's browser) yields no code.
func (g *loginGlue) callback(inner http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		id := r.Form.Get("id")
		if !validRequestID(id) {
			g.loginFailed(rw, r)
			return
		}
		req, err := g.st.AuthRequestByID(r.Context(), id, g.clock.now())
		if err != nil {
			g.loginFailed(rw, r)
			return
		}
		sess, ok := g.browser.Session(r)
		if !ok || req.DoneAt.IsZero() || req.CodeHash != nil || subtle.ConstantTimeCompare(sess.TokenHash, req.SessionHash) != 1 {
			g.loginFailed(rw, r)
			return
		}
		inner.ServeHTTP(rw, r)
	})
}

// failedPage is the answer to a sign-in request that cannot go on, in the
// language of the portal's pages.
var failedPage = template.Must(template.New("failed").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title><link rel="stylesheet" href="/static/style.css"></head>
<body><main id="inhalt"><h1>{{.Title}}</h1>
<p>{{.Text}}</p>
<p><a href="/">{{.Start}}</a></p></main></body></html>
`))

// loginFailed answers a request id that is unknown, expired, used or not
// this browser's, the same way for each.
func (g *loginGlue) loginFailed(rw http.ResponseWriter, r *http.Request) {
	l := g.browser.Language(r)
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	rw.Header().Set("Cache-Control", "no-store")
	rw.WriteHeader(http.StatusBadRequest)
	_ = failedPage.Execute(rw, struct{ Lang, Title, Text, Start string }{string(l), l.T("oidc.failed.title"),
		l.T("oidc.failed.text"), l.T("web.link.start")})
}
