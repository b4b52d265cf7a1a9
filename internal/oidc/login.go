package oidc

import (
	"context"
	"errors"
	"html/template"
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

// Continue returns where the portal continues with the "weiter" key next,
// and false if next is not one of ours.
func (p *Provider) Continue(next string) (string, bool) {
	if len(next) <= len(NextPrefix) || next[:len(NextPrefix)] != NextPrefix || !validRequestID(next[len(NextPrefix):]) {
		return "", false
	}
	return loginPath + "?id=" + next[len(NextPrefix):], true
}

// Cancel returns where a person abandons the sign-in of the "weiter" key
// next: the application is told access_denied.
func (p *Provider) Cancel(next string) (string, bool) {
	if _, ok := p.Continue(next); !ok {
		return "", false
	}
	return cancelPath + "?id=" + next[len(NextPrefix):], true
}

// Client returns the id and name of the client whose pending request the
// "weiter" key next names: the phone's login confirmation shows the name.
func (p *Provider) Client(ctx context.Context, next string) (string, string, bool) {
	path, ok := p.Continue(next)
	if !ok {
		return "", "", false
	}
	req, err := p.st.AuthRequestByID(ctx, path[len(loginPath+"?id="):], p.clock.now())
	if err != nil {
		return "", "", false
	}
	c, ok := p.clients.byID[req.ClientID]
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
func (p *Provider) login(rw http.ResponseWriter, r *http.Request) {
	id := r.Form.Get("id")
	if !validRequestID(id) {
		p.loginFailed(rw, r)
		return
	}
	now := p.clock.now()
	req, err := p.st.AuthRequestByID(r.Context(), id, now)
	if err != nil || !req.DoneAt.IsZero() {
		p.loginFailed(rw, r)
		return
	}
	c, ok := p.clients.byID[req.ClientID]
	if !ok {
		p.loginFailed(rw, r)
		return
	}
	level, _ := c.levelFor(req.ACRValues)
	promptNone := slices.Contains(req.Prompt, oidc.PromptNone)
	sess, live := p.browser.Session(r)
	// A login during this request satisfies prompt=login and any max_age
	// (op turns prompt=login into max_age 0).
	loggedInSince := live && !sess.CreatedAt.Before(req.CreatedAt)
	fresh := live && !sess.MustChangePassword &&
		(!slices.Contains(req.Prompt, oidc.PromptLogin) || loggedInSince) &&
		(req.MaxAge < 0 || loggedInSince || now.Sub(sess.CreatedAt) <= time.Duration(req.MaxAge)*time.Second)
	switch {
	case !fresh && promptNone:
		p.refuse(rw, r, req, oidc.ErrLoginRequired())
		return
	case !fresh && live && sess.MustChangePassword:
		http.Redirect(rw, r, "/passwort-aendern?weiter="+url.QueryEscape(NextPrefix+id), http.StatusSeeOther)
		return
	case !fresh:
		http.Redirect(rw, r, "/anmelden?weiter="+url.QueryEscape(NextPrefix+id), http.StatusSeeOther)
		return
	case session.Level(sess.Level).Rank() < level.Rank() && promptNone:
		p.refuse(rw, r, req, oidc.ErrInteractionRequired())
		return
	case session.Level(sess.Level).Rank() < level.Rank():
		http.Redirect(rw, r, "/anmelden/hoeher?weiter="+url.QueryEscape(NextPrefix+id)+"&niveau="+string(level), http.StatusSeeOther)
		return
	}
	amr := slices.Clone(sess.AMR)
	if len(amr) >= 2 && !slices.Contains(amr, "mfa") {
		amr = append(amr, "mfa")
	}
	_, err = p.st.UpdateAuthRequest(r.Context(), id, func(ar *store.AuthRequest) error {
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
			p.logger.ErrorContext(r.Context(), "oidc: complete auth request", "error", err.Error())
		}
		p.loginFailed(rw, r)
		return
	}
	p.rec.record(r.Context(), audit.Event{Actor: personRef(sess.PersonID), Event: "oidc.login", Subject: personRef(sess.PersonID),
		Details: map[string]any{"client": c.cfg.ID, "request": id, "level": sess.Level}})
	http.Redirect(rw, r, callbackPath+"?id="+id, http.StatusSeeOther)
}

// cancel returns the request to its client with access_denied: the person
// abandoned the sign-in (for example, the level cannot be reached).
func (p *Provider) cancel(rw http.ResponseWriter, r *http.Request) {
	id := r.Form.Get("id")
	if !validRequestID(id) {
		p.loginFailed(rw, r)
		return
	}
	req, err := p.st.AuthRequestByID(r.Context(), id, p.clock.now())
	if err != nil || !req.DoneAt.IsZero() {
		p.loginFailed(rw, r)
		return
	}
	p.refuse(rw, r, req, oidc.ErrAccessDenied().WithDescription("the person cancelled the sign-in"))
}

// refuse sends the browser back to the client with an OAuth error, and
// completes the request so it cannot be used any more.
func (p *Provider) refuse(rw http.ResponseWriter, r *http.Request, req store.AuthRequest, e *oidc.Error) {
	now := p.clock.now()
	_, err := p.st.UpdateAuthRequest(r.Context(), req.ID, func(ar *store.AuthRequest) error {
		if !ar.DoneAt.IsZero() {
			return errAlreadyDone
		}
		ar.DoneAt = now
		ar.ExpiresAt = now
		return nil
	})
	if err != nil {
		p.loginFailed(rw, r)
		return
	}
	op.AuthRequestError(rw, r, &authRequest{r: req}, e, p.op)
}

var failedPage = template.Must(template.New("failed").Parse(`<!DOCTYPE html>
<html lang="de"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Anmeldung nicht möglich</title><link rel="stylesheet" href="/static/style.css"></head>
<body><main id="inhalt"><h1>Anmeldung nicht möglich</h1>
<p>Diese Anmeldeanfrage ist ungültig, abgelaufen oder wurde schon verwendet. Bitte starten Sie die Anmeldung in der Anwendung neu, aus der Sie gekommen sind.</p>
<p lang="en">This sign-in request is invalid, expired or already used. Please start again from the application you came from.</p>
<p><a href="/">Zur Startseite</a></p></main></body></html>
`))

// loginFailed answers a request id that is unknown, expired, used or not
// this browser's, the same way for each.
func (p *Provider) loginFailed(rw http.ResponseWriter, _ *http.Request) {
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	rw.Header().Set("Cache-Control", "no-store")
	rw.WriteHeader(http.StatusBadRequest)
	failedPage.Execute(rw, nil)
}
