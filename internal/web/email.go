package web

import (
	"context"
	"net/http"
	"strings"

	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/email"
	"github.com/pforte/pforte/internal/field"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// Email runs the person's e-mail address (email.Service).
type Email interface {
	View(ctx context.Context, person store.PersonID) (email.View, error)
	Add(ctx context.Context, person store.PersonID, addr string, level session.Level) error
	Withdraw(ctx context.Context, person store.PersonID, level session.Level) error
	SetNotify(ctx context.Context, person store.PersonID, on bool, level session.Level) error
	RequestChange(ctx context.Context, person store.PersonID, addr, client string, level session.Level) (store.Approval, error)
	LinkState(ctx context.Context, token string) (string, error)
	Confirm(ctx context.Context, token string) (string, error)
	Unsubscribe(ctx context.Context, token string) error
}

// emailPages are the e-mail address's pages: on the personal data page
// (logged in) and the links of the mails (no login: the token is the
// proof). A GET never changes anything: mail scanners follow links, so a
// link opens a page whose button does the change.
type emailPages struct {
	*base
	email Email
}

func (w *emailPages) routes(m map[string]http.Handler) {
	if w.email == nil {
		return
	}
	view := approval.ActionPersonalView
	m["GET /daten/email"] = w.protected(view, "daten", w.overview)
	m["POST /daten/email"] = w.protected(view, "daten", w.add)
	m["POST /daten/email/aendern"] = w.protected(view, "daten", w.change)
	m["POST /daten/email/entfernen"] = w.protected(view, "daten", w.remove)
	m["POST /daten/email/zurueckziehen"] = w.protected(view, "daten", w.withdraw)
	m["POST /daten/email/benachrichtigung"] = w.protected(view, "daten", w.notify)
	m["GET "+email.ConfirmPath] = w.page(w.confirmForm)
	m["POST "+email.ConfirmPath] = w.page(w.confirm)
	m["GET "+email.UnsubscribePath] = w.page(w.unsubscribeForm)
	m["POST "+email.UnsubscribePath] = w.page(w.unsubscribe)
}

// emailPage is the data of the e-mail page.
type emailPage struct {
	email.View
	Until string // PendingUntil, German local time
	Token string // the link's token, on the link pages
}

func (w *emailPages) emailView(r *http.Request, s store.Session) (view, error) {
	v, err := w.email.View(r.Context(), s.PersonID)
	if err != nil {
		return view{}, err
	}
	p := emailPage{View: v}
	if !v.PendingUntil.IsZero() {
		p.Until = w.language(r).Short(v.PendingUntil)
	}
	return view{Title: w.language(r).T("web.email.title"), LoggedIn: true, Data: p}, nil
}

// overview shows the address (masked), a pending one, the notice setting
// and the forms that fit.
func (w *emailPages) overview(rw http.ResponseWriter, r *http.Request, _ session.Token, s store.Session) error {
	v, err := w.emailView(r, s)
	if err != nil {
		return err
	}
	if r.URL.Query().Get("hinweis") == "gesendet" {
		v.Message = &message{Lines: []string{w.language(r).T("web.email.sent")}}
	}
	return w.render(rw, r, http.StatusOK, "email", v)
}

// add sets a new address and sends its confirmation link.
func (w *emailPages) add(rw http.ResponseWriter, r *http.Request, _ session.Token, s store.Session) error {
	values, err := decodeForm(rw, r, "email")
	if err != nil {
		return err
	}
	if err := w.email.Add(r.Context(), s.PersonID, values["email"], session.Level(s.Level)); err != nil {
		v, verr := w.emailView(r, s)
		if verr != nil {
			return verr
		}
		v.Form = keep(values)
		return &formFailed{"email", v, err}
	}
	return redirect(rw, r, "/daten/email?hinweis=gesendet")
}

// change asks the phone to approve a new address.
func (w *emailPages) change(rw http.ResponseWriter, r *http.Request, _ session.Token, s store.Session) error {
	values, err := decodeForm(rw, r, "email")
	if err != nil {
		return err
	}
	var a store.Approval
	err = field.Wrong("email", lang.Key("field.required")) // an empty field is a missing address here, not a removal
	if strings.TrimSpace(values["email"]) != "" {
		a, err = w.email.RequestChange(r.Context(), s.PersonID, values["email"], "portal", session.Level(s.Level))
	}
	if err != nil {
		v, verr := w.emailView(r, s)
		if verr != nil {
			return verr
		}
		v.Form = keep(values)
		return &formFailed{"email", v, err}
	}
	return redirect(rw, r, "/freigabe/"+a.ID)
}

// remove asks the phone to approve removing the address.
func (w *emailPages) remove(rw http.ResponseWriter, r *http.Request, _ session.Token, s store.Session) error {
	if _, err := decodeForm(rw, r); err != nil {
		return err
	}
	a, err := w.email.RequestChange(r.Context(), s.PersonID, "", "portal", session.Level(s.Level))
	if err != nil {
		return err
	}
	return redirect(rw, r, "/freigabe/"+a.ID)
}

// withdraw removes an address that waits for its confirmation.
func (w *emailPages) withdraw(rw http.ResponseWriter, r *http.Request, _ session.Token, s store.Session) error {
	if _, err := decodeForm(rw, r); err != nil {
		return err
	}
	if err := w.email.Withdraw(r.Context(), s.PersonID, session.Level(s.Level)); err != nil {
		return err
	}
	return redirect(rw, r, "/daten/email")
}

// notify switches notices by e-mail on ("an") or off ("aus").
func (w *emailPages) notify(rw http.ResponseWriter, r *http.Request, _ session.Token, s store.Session) error {
	values, err := decodeForm(rw, r, "benachrichtigung")
	if err != nil {
		return err
	}
	on := values["benachrichtigung"] == "an"
	if !on && values["benachrichtigung"] != "aus" {
		return badRequest(http.StatusBadRequest, lang.Key("web.bad.unreadable"))
	}
	if err := w.email.SetNotify(r.Context(), s.PersonID, on, session.Level(s.Level)); err != nil {
		return err
	}
	return redirect(rw, r, "/daten/email")
}

// linkToken reads a link's token from the query, or from the form.
func linkToken(rw http.ResponseWriter, r *http.Request) (string, error) {
	if t := r.URL.Query().Get("t"); t != "" {
		return t, nil
	}
	values, err := decodeForm(rw, r, "t", "List-Unsubscribe")
	if err != nil {
		return "", err
	}
	return values["t"], nil
}

// confirmForm shows what the link confirms, with the button that does.
func (w *emailPages) confirmForm(rw http.ResponseWriter, r *http.Request) error {
	tok := r.URL.Query().Get("t")
	masked, err := w.email.LinkState(r.Context(), tok)
	if err != nil {
		return err
	}
	return w.render(rw, r, http.StatusOK, "email-link", view{Title: w.language(r).T("web.email.confirm_title"),
		Data: emailPage{View: email.View{Pending: masked}, Token: tok}})
}

// confirm follows the link: the address is confirmed.
func (w *emailPages) confirm(rw http.ResponseWriter, r *http.Request) error {
	tok, err := linkToken(rw, r)
	if err != nil {
		return err
	}
	masked, err := w.email.Confirm(r.Context(), tok)
	if err != nil {
		return err
	}
	l := w.language(r)
	return w.renderMessage(rw, r, http.StatusOK, message{Heading: l.T("web.email.confirmed"),
		Lines: []string{l.T("web.email.confirmed_text", masked)},
		Links: []link{{"/daten/email", l.T("web.link.email")}, {"/postfach", l.T("web.nav.mailbox")}}})
}

// unsubscribeForm shows the button that switches notices by e-mail off.
func (w *emailPages) unsubscribeForm(rw http.ResponseWriter, r *http.Request) error {
	tok := r.URL.Query().Get("t")
	if tok == "" || len(tok) > 64 {
		return email.ErrLinkInvalid
	}
	return w.render(rw, r, http.StatusOK, "email-link", view{Title: w.language(r).T("web.email.unsubscribe_title"),
		Data: emailPage{Token: tok}})
}

// unsubscribe switches notices by e-mail off: the button of the page, or
// a mail program's one-click POST (RFC 8058) to the List-Unsubscribe URL.
func (w *emailPages) unsubscribe(rw http.ResponseWriter, r *http.Request) error {
	tok, err := linkToken(rw, r)
	if err != nil {
		return err
	}
	if err := w.email.Unsubscribe(r.Context(), tok); err != nil {
		return err
	}
	l := w.language(r)
	return w.renderMessage(rw, r, http.StatusOK, message{Heading: l.T("web.email.unsubscribed"),
		Lines: []string{l.T("web.email.unsubscribed_text")},
		Links: []link{{"/daten/email", l.T("web.link.email")}, {"/", l.T("web.link.start")}}})
}
