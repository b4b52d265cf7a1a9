package web

import (
	"net/http"
	"regexp"

	"github.com/pforte/pforte/internal/access"
	"github.com/pforte/pforte/internal/field"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/server"
	"github.com/pforte/pforte/internal/store"

	"github.com/pforte/pforte/internal/session"
)

// accessPage is the data of the access and forgotten-password forms.
type accessPage struct {
	Action  string
	Heading string
	Intro   string
	Reset   bool
}

func accessView(l lang.Language, purpose string) view {
	if purpose == access.PurposeReset {
		p := accessPage{Action: "/passwort-vergessen", Heading: l.T("web.link.forgot"), Reset: true, Intro: l.T("web.access.intro_reset")}
		return view{Title: p.Heading, Data: p}
	}
	p := accessPage{Action: "/zugang", Heading: l.T("web.link.request_access"), Intro: l.T("web.access.intro")}
	return view{Title: p.Heading, Data: p}
}

// start shows what the portal is.
func (w *accessPages) start(rw http.ResponseWriter, r *http.Request) error {
	l := w.language(r)
	notice := ""
	if r.URL.Query().Get("hinweis") == "abgemeldet" {
		notice = l.T("web.start.logged_out")
	}
	return w.render(rw, r, http.StatusOK, "start", view{Title: l.T("web.start.welcome"), Data: startPage{Notice: notice}})
}

// startPage is the data of the start page.
type startPage struct{ Notice string }

// accessForm shows the form to request access.
func (w *accessPages) accessForm(rw http.ResponseWriter, r *http.Request) error {
	return w.render(rw, r, http.StatusOK, "access", accessView(w.language(r), access.PurposeAccess))
}

// forgotForm shows the form for a forgotten password.
func (w *accessPages) forgotForm(rw http.ResponseWriter, r *http.Request) error {
	return w.render(rw, r, http.StatusOK, "access", accessView(w.language(r), access.PurposeReset))
}

// requestAccess starts an eID identification or requests a password letter.
func (w *accessPages) requestAccess(rw http.ResponseWriter, r *http.Request) error {
	return w.submitAccess(rw, r, access.PurposeAccess)
}

// requestReset starts an eID identification or requests a reset letter.
func (w *accessPages) requestReset(rw http.ResponseWriter, r *http.Request) error {
	return w.submitAccess(rw, r, access.PurposeReset)
}

func (w *accessPages) submitAccess(rw http.ResponseWriter, r *http.Request, purpose string) error {
	values, err := decodeForm(rw, r, "kvnr", "postal_code", "birth_date", "method")
	if err != nil {
		return err
	}
	l := w.language(r)
	v := accessView(l, purpose)
	v.Form = keep(values)
	in := access.Request{KVNR: values["kvnr"], PostalCode: values["postal_code"],
		BirthDate: isoDate(values["birth_date"]), ClientIP: server.ClientIP(r), Language: l}
	switch values["method"] {
	case "eid":
		started, err := w.access.StartEID(r.Context(), in, purpose)
		if err != nil {
			return &formFailed{"access", v, err}
		}
		w.setCookie(rw, eidCookie, started.Flow, flowLifetime, http.SameSiteLaxMode)
		return redirect(rw, r, started.RedirectURL)
	case "letter":
		request, sent := w.access.RequestLetter, letterSent(l)
		if purpose == access.PurposeReset {
			request, sent = w.access.RequestReset, resetLetterSent(l)
		}
		if err := request(r.Context(), in); err != nil {
			return &formFailed{"access", v, err}
		}
		return w.renderMessage(rw, r, http.StatusOK, sent)
	default:
		// Every error at once: the entries' own, then the missing choice.
		var problems fieldProblems
		if _, err := in.Validate(w.cfg.Now()); err != nil {
			for _, e := range field.All(err) {
				problems = append(problems, fieldError{e.Name, e.In(l)})
			}
		}
		problems = append(problems, fieldError{"method", l.T("web.access.method_missing")})
		return &formFailed{"access", v, problems}
	}
}

// letterSent and resetLetterSent confirm letter requests: the same for
// every well-formed request, whether or not the data matched anyone.
func letterSent(l lang.Language) message {
	return message{Heading: l.T("web.sent.heading"),
		Lines: []string{l.T("web.sent.letter"), l.T("web.sent.login"), l.T("web.sent.have_password"), l.T("web.sent.no_letter")},
		Links: []link{{"/anmelden", l.T("web.link.to_login")}, {"/passwort-vergessen", l.T("web.link.forgot")}, {"/", l.T("web.link.start")}}}
}

func resetLetterSent(l lang.Language) message {
	return message{Heading: l.T("web.sent.heading"),
		Lines: []string{l.T("web.sent.reset_letter"), l.T("web.sent.reset_code"), l.T("web.sent.reset_no_letter")},
		Links: []link{{"/passwort-zuruecksetzen", l.T("web.reset.title")}, {"/", l.T("web.link.start")}}}
}

// eidStart continues in the browser an identification the service app started
// through the API: it keeps the flow in the eID cookie and sends the browser on
// to the partner.
func (w *accessPages) eidStart(rw http.ResponseWriter, r *http.Request) error {
	flow := r.PathValue("flow")
	target, err := w.access.EIDRedirect(r.Context(), flow)
	if err != nil {
		return err
	}
	w.setCookie(rw, eidCookie, flow, flowLifetime, http.SameSiteLaxMode)
	if r.URL.Query().Get("weiter") == "app" {
		w.setCookie(rw, appCookie, "1", flowLifetime, http.SameSiteLaxMode) // back to the service app (appsession.go)
	} else {
		w.clearCookie(rw, appCookie)
	}
	return redirect(rw, r, target)
}

// eidReturn is where the identification partner sends the browser back.
func (w *accessPages) eidReturn(rw http.ResponseWriter, r *http.Request) error {
	flow := w.cookieValue(r, eidCookie)
	w.clearCookie(rw, eidCookie)
	toApp := w.cookieValue(r, appCookie) == "1"
	if toApp {
		w.clearCookie(rw, appCookie)
	}
	proven, err := access.Proven{}, access.ErrEIDFailed
	if flow != "" {
		proven, err = w.access.FinishEID(r.Context(), flow, r.URL.Query(), server.ClientIP(r))
	}
	if err != nil {
		if why := eidFailure(err); toApp && why != "" {
			return redirect(rw, r, appEIDPath+"?fehler="+why)
		}
		return err
	}
	if proven.Purpose == access.PurposeConfirm {
		return w.confirmed(rw, r, proven.Ticket)
	}
	w.setCookie(rw, ticketCookie, proven.Ticket, flowLifetime, http.SameSiteStrictMode)
	if toApp {
		if proven.HasPassword {
			return redirect(rw, r, appEIDPath+"?ersetzen=1")
		}
		return redirect(rw, r, appEIDPath)
	}
	if proven.HasPassword {
		return redirect(rw, r, "/passwort-festlegen?ersetzen=1")
	}
	return redirect(rw, r, "/passwort-festlegen")
}

// choosePage is the data of the page to choose a password after an eID
// identification.
type choosePage struct{ Replace bool }

func chooseView(l lang.Language, replace bool) view {
	return view{Title: l.T("web.choose.title"), Data: choosePage{Replace: replace}}
}

// choosePasswordForm shows the form. It cannot check the ticket: the
// SameSite=Strict cookie is not sent on the redirect chain that started at the
// partner; the POST checks it.
func (w *accessPages) choosePasswordForm(rw http.ResponseWriter, r *http.Request) error {
	return w.render(rw, r, http.StatusOK, "choose-password", chooseView(w.language(r), r.URL.Query().Get("ersetzen") == "1"))
}

// choosePassword sets the password of the person the eID identification
// proved and starts a session.
func (w *accessPages) choosePassword(rw http.ResponseWriter, r *http.Request) error {
	values, err := decodeForm(rw, r, "new_password", "new_password_repeat")
	if err != nil {
		return err
	}
	l := w.language(r)
	v := chooseView(l, false)
	v.Form = keep(values)
	if err := requireRepeat(l, values); err != nil {
		return &formFailed{"choose-password", v, err}
	}
	ticket := w.cookieValue(r, ticketCookie)
	if ticket == "" {
		return access.ErrTicket
	}
	res, err := w.access.ChoosePassword(r.Context(), ticket, values["new_password"], server.ClientIP(r), r.UserAgent(), session.KindBrowser)
	if err != nil {
		return &formFailed{"choose-password", v, err}
	}
	w.clearCookie(rw, ticketCookie)
	w.sessionStarted(rw, res.Token, res.Language)
	return redirect(rw, r, "/konto?hinweis=passwort-festgelegt")
}

func resetView(l lang.Language) view { return view{Title: l.T("web.reset.title")} }

// resetForm shows the form for the code from a reset letter.
func (w *accessPages) resetForm(rw http.ResponseWriter, r *http.Request) error {
	return w.render(rw, r, http.StatusOK, "reset", resetView(w.language(r)))
}

// reset sets a new password with the code from a reset letter.
func (w *accessPages) reset(rw http.ResponseWriter, r *http.Request) error {
	values, err := decodeForm(rw, r, "kvnr", "code", "new_password", "new_password_repeat")
	if err != nil {
		return err
	}
	l := w.language(r)
	v := resetView(l)
	v.Form = keep(values)
	v.Form.values["code"] = "" // a code is a secret too
	if err := requireRepeat(l, values); err != nil {
		return &formFailed{"reset", v, err}
	}
	res, err := w.access.ResetWithCode(r.Context(), values["kvnr"], values["code"], values["new_password"], server.ClientIP(r), r.UserAgent())
	if err != nil {
		return &formFailed{"reset", v, err}
	}
	w.sessionStarted(rw, res.Token, res.Language)
	return redirect(rw, r, "/konto?hinweis=neues-passwort")
}

// backPath is a page an eID confirmation of the session may return to: the
// account, the personal data, the devices, or a device's removal page.
var backPath = regexp.MustCompile(`^/(konto|daten|geraete)(/[A-Za-z0-9_-]{1,64}/entfernen)?$`)

// confirmWithEID starts an eID identification of the logged-in person that
// turns their session into a fresh eID session at level high (to remove a
// lost phone, or to see their data without a phone); the password stays.
func (w *accessPages) confirmWithEID(rw http.ResponseWriter, r *http.Request, _ session.Token, s store.Session) error {
	values, err := decodeForm(rw, r, "zurueck")
	if err != nil {
		return err
	}
	back := values["zurueck"]
	if !backPath.MatchString(back) {
		back = "/konto"
	}
	started, err := w.access.StartConfirm(r.Context(), s.PersonID, server.ClientIP(r))
	if err != nil {
		return err
	}
	w.clearCookie(rw, appCookie)
	w.setCookie(rw, eidCookie, started.Flow, flowLifetime, http.SameSiteLaxMode)
	w.setCookie(rw, backCookie, back, flowLifetime, http.SameSiteLaxMode)
	return redirect(rw, r, started.RedirectURL)
}

// confirmed finishes an eID confirmation: the browser's session (sent on
// the partner's top-level redirect, SameSite=Lax) is replaced by a fresh
// eID session of the same person.
func (w *accessPages) confirmed(rw http.ResponseWriter, r *http.Request, ticket string) error {
	back := w.cookieValue(r, backCookie)
	w.clearCookie(rw, backCookie)
	if !backPath.MatchString(back) {
		back = "/konto"
	}
	tok, s, err := w.currentSession(r)
	if err != nil {
		return err // logged out meanwhile: the login page
	}
	n, err := w.access.Confirm(r.Context(), ticket, s, server.ClientIP(r), r.UserAgent())
	if err != nil {
		return err
	}
	newTok, _, err := w.sessions.Replace(r.Context(), tok, n)
	if err != nil {
		return err
	}
	w.setCookie(rw, sessionCookie, string(newTok), 0, http.SameSiteLaxMode)
	return redirect(rw, r, back+"?hinweis=ausweis")
}
