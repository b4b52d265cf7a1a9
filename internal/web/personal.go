package web

import (
	"net/http"
	"strings"

	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/email"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/profile"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// personalPage is the data of the personal data page.
type personalPage struct {
	Name            string
	AddressLines    []string
	AddressVerified bool
	IBAN            string // masked; empty when none is on file
	// Email is the e-mail address (masked); nil when the portal offers
	// none.
	Email *email.View
}

// personal shows name, address and bank account.
func (w *personalPages) personal(rw http.ResponseWriter, r *http.Request, _ session.Token, s store.Session) error {
	v, err := w.profile.View(r.Context(), s.PersonID)
	if err != nil {
		return err
	}
	a := v.Address
	p := personalPage{Name: strings.Join(strings.Fields(v.Title+" "+v.GivenNames+" "+v.FamilyName), " "),
		AddressLines:    []string{strings.TrimSpace(a.Street + " " + a.HouseNumber), strings.TrimSpace(a.PostalCode + " " + a.City)},
		AddressVerified: v.AddressVerified, IBAN: v.IBANMasked}
	if w.email != nil {
		ev, err := w.email.View(r.Context(), s.PersonID)
		if err != nil {
			return err
		}
		p.Email = &ev
	}
	return w.render(rw, r, http.StatusOK, "personal", view{Title: w.language(r).T("web.nav.personal"), LoggedIn: true, Data: p})
}

// changeForm is the data of the address and bank account forms.
type changeForm struct{ Bank bool }

func addressView(l lang.Language) view {
	return view{Title: l.T("web.data.address_title"), LoggedIn: true, Data: changeForm{}}
}

func bankView(l lang.Language) view {
	return view{Title: l.T("web.data.bank_title"), LoggedIn: true, Data: changeForm{Bank: true}}
}

// addressForm shows the form, filled in with the address on file.
func (w *personalPages) addressForm(rw http.ResponseWriter, r *http.Request, _ session.Token, s store.Session) error {
	p, err := w.profile.View(r.Context(), s.PersonID)
	if err != nil {
		return err
	}
	v := addressView(w.language(r))
	v.Form = keep(map[string]string{"street": p.Address.Street, "house_number": p.Address.HouseNumber,
		"postal_code": p.Address.PostalCode, "city": p.Address.City})
	return w.render(rw, r, http.StatusOK, "change-data", v)
}

// changeAddress asks the phone to approve the new address.
func (w *personalPages) changeAddress(rw http.ResponseWriter, r *http.Request, _ session.Token, s store.Session) error {
	values, err := decodeForm(rw, r, "street", "house_number", "postal_code", "city")
	if err != nil {
		return err
	}
	v := addressView(w.language(r))
	v.Form = keep(values)
	a, err := w.profile.RequestAddressChange(r.Context(), s.PersonID, profile.Address{Street: values["street"],
		HouseNumber: values["house_number"], PostalCode: values["postal_code"], City: values["city"]}, "portal", session.Level(s.Level))
	if err != nil {
		return &formFailed{"change-data", v, err}
	}
	return redirect(rw, r, "/freigabe/"+a.ID)
}

// bankForm shows the form for a new bank account.
func (w *personalPages) bankForm(rw http.ResponseWriter, r *http.Request, _ session.Token, _ store.Session) error {
	return w.render(rw, r, http.StatusOK, "change-data", bankView(w.language(r)))
}

// changeBank asks the phone to approve the new bank account.
func (w *personalPages) changeBank(rw http.ResponseWriter, r *http.Request, _ session.Token, s store.Session) error {
	values, err := decodeForm(rw, r, "iban")
	if err != nil {
		return err
	}
	v := bankView(w.language(r))
	v.Form = keep(values)
	a, err := w.profile.RequestBankChange(r.Context(), s.PersonID, values["iban"], "portal", session.Level(s.Level))
	if err != nil {
		return &formFailed{"change-data", v, err}
	}
	return redirect(rw, r, "/freigabe/"+a.ID)
}

// changeWaitPage is the data of the waiting page of a change.
type changeWaitPage struct {
	ID    string
	Text  string
	Bank  bool
	Until string
	Back  link // where the person may go while the request stays open
}

// awaitChange is the waiting page of an address or bank change: it shows
// what the phone is asked to approve, and confirms the change once the phone
// approved it (the approval carried it out; this page only reads).
func (w *personalPages) awaitChange(rw http.ResponseWriter, r *http.Request, _ session.Token, s store.Session) error {
	id := r.PathValue("id")
	if !validID(id) {
		return approval.ErrNotFound
	}
	a, err := w.profile.Status(r.Context(), id, s.PersonID)
	if err != nil {
		return err
	}
	bank := a.Action == approval.ActionBankChange
	removal := a.Action == approval.ActionDeviceRemove
	mail := a.Action == approval.ActionEmailChange
	if !bank && !removal && !mail && a.Action != approval.ActionAddressChange {
		return approval.ErrNotFound
	}
	if answerProbe(rw, r, a.Status == store.ApprovalPending) {
		return nil
	}
	l := w.language(r)
	back := []link{{"/daten", l.T("web.link.back_personal")}}
	if removal {
		back = []link{{"/geraete", l.T("web.link.back_devices")}}
	}
	if mail {
		back = []link{{"/daten/email", l.T("web.link.email")}}
	}
	switch a.Status {
	case store.ApprovalPending:
		return w.render(rw, r, http.StatusOK, "change-wait", view{Title: l.T("web.wait.change_title"), LoggedIn: true, Waiting: true,
			Data: changeWaitPage{ID: a.ID, Text: a.Text, Bank: bank, Until: l.Short(a.ExpiresAt), Back: back[0]}})
	case store.ApprovalApproved:
		m := message{Heading: l.T("web.change.address_saved"), Lines: []string{l.T("web.change.address_saved_text")}, Links: back}
		switch {
		case bank:
			m = message{Heading: l.T("web.change.bank_saved"), Lines: []string{l.T("web.change.bank_saved_text")}, Links: back}
		case removal:
			m = message{Heading: l.T("web.change.removed"), Lines: []string{l.T("web.devices.notice_removed")}, Links: back}
		case mail:
			m = message{Heading: l.T("web.change.email_saved"), Lines: []string{l.T("web.change.email_saved_text")}, Links: back}
		}
		return w.renderMessage(rw, r, http.StatusOK, m)
	case store.ApprovalDeclined:
		return w.renderMessage(rw, r, http.StatusOK, message{Heading: l.T("web.change.declined"), Alert: true,
			Lines: []string{l.T("web.change.declined_text"), l.T("web.change.asked", a.Text)},
			Links: back})
	case store.ApprovalWithdrawn:
		return w.renderMessage(rw, r, http.StatusOK, message{Heading: l.T("web.change.withdrawn"), Alert: true,
			Lines: []string{l.T("web.change.withdrawn_text"), l.T("web.change.withdrawn_what", a.Text)},
			Links: back})
	default:
		return w.renderMessage(rw, r, http.StatusOK, message{Heading: l.T("web.change.expired"), Alert: true,
			Lines: []string{l.T("web.change.expired_text")},
			Links: back})
	}
}
