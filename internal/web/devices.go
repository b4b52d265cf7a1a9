package web

import (
	"errors"
	"net/http"

	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/device"
	"github.com/pforte/pforte/internal/field"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/server"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// deviceRow is one bound phone on the device page.
type deviceRow struct {
	ID, Name, Model, Level, BoundAt string
	High                            bool // bound with the eID or the health card
	Locked                          bool
	Value, Error                    string // the rename form, when it failed
}

// devicesPage is the data of the device page.
type devicesPage struct {
	Devices   []deviceRow
	CanRename bool // the session's level allows changes
	Notice    string
	AnyLocked bool // some phone's PIN is locked: the page says how to unlock
	EID       bool // an identification partner is configured
}

// deviceNotice is what the device page says after an action, by the
// "hinweis" parameter; "" for none.
func deviceNotice(l lang.Language, hinweis string) string {
	switch hinweis {
	case "name":
		return l.T("web.devices.notice_name")
	case "entfernt":
		return l.T("web.devices.notice_removed")
	case "brief":
		return l.T("web.devices.notice_letter")
	case "brief-pruefung":
		return l.T("web.devices.notice_letter_review")
	}
	return ""
}

// devicesView builds the device page; failed is the device whose rename
// failed with problem, value what was typed.
func (w *devicePages) devicesView(r *http.Request, s store.Session, failed, value, problem string) (view, error) {
	list, err := w.devices.List(r.Context(), s.PersonID)
	if err != nil {
		return view{}, err
	}
	l := w.language(r)
	p := devicesPage{CanRename: w.levelOK(s, approval.ActionPersonalView), EID: w.cfg.EIDOrigin != "",
		Notice: deviceNotice(l, r.URL.Query().Get("hinweis"))}
	f := &form{}
	for _, d := range list {
		row := deviceRow{ID: string(d.ID), Name: d.Name, Model: d.Model, Level: levelWord(l, d.Level), BoundAt: l.Short(d.BoundAt),
			High: d.Level == string(session.LevelHigh), Locked: !d.PINLockedAt.IsZero(), Value: d.Name}
		p.AnyLocked = p.AnyLocked || row.Locked
		if string(d.ID) == failed {
			row.Value, row.Error = value, problem
			f.Errors = append(f.Errors, fieldError{Field: "name-" + row.ID, Message: problem})
		}
		p.Devices = append(p.Devices, row)
	}
	return view{Title: l.T("web.nav.devices"), LoggedIn: true, Form: f, Data: p}, nil
}

// devicesList shows the bound phones with their PIN state. Every session may
// see it: a person whose PIN is locked cannot confirm a higher level and
// must still learn why.
func (w *devicePages) devicesList(rw http.ResponseWriter, r *http.Request, _ session.Token, s store.Session) error {
	v, err := w.devicesView(r, s, "", "", "")
	if err != nil {
		return err
	}
	return w.render(rw, r, http.StatusOK, "devices", v)
}

// renameDevice renames one of the person's phones; it needs the level of the
// personal data.
func (w *devicePages) renameDevice(rw http.ResponseWriter, r *http.Request, _ session.Token, s store.Session) error {
	id := r.PathValue("id")
	if !validID(id) {
		return device.ErrNotFound
	}
	values, err := decodeForm(rw, r, "name")
	if err != nil {
		return err
	}
	if !w.levelOK(s, approval.ActionPersonalView) {
		return w.needPhone(rw, r, s, "geraete")
	}
	err = w.devices.Rename(r.Context(), s.PersonID, store.DeviceID(id), values["name"])
	var invalid *field.Error
	if errors.As(err, &invalid) {
		v, verr := w.devicesView(r, s, id, values["name"], invalid.In(w.language(r)))
		if verr != nil {
			return verr
		}
		return w.render(rw, r, http.StatusUnprocessableEntity, "devices", v)
	}
	if err != nil {
		return err
	}
	return redirect(rw, r, "/geraete?hinweis=name")
}

// removePage is the data of a phone's removal page: which ways the person
// has from where they are.
type removePage struct {
	ID, Name, Model string
	Locked          bool
	// Now: the session comes from an eID identification within the last
	// 15 minutes; the phone goes at once.
	Now bool
	// CanRequest: the session's level allows asking a phone, and some
	// phone's PIN is usable to approve it.
	CanRequest bool
	Only       bool // it is the person's only phone
	EID        bool // an identification partner is configured
}

// removeForm explains the ways to remove a phone (lost, broken, sold) and
// offers those the person has now.
func (w *devicePages) removeForm(rw http.ResponseWriter, r *http.Request, _ session.Token, s store.Session) error {
	id := r.PathValue("id")
	if !validID(id) {
		return device.ErrNotFound
	}
	list, err := w.devices.List(r.Context(), s.PersonID)
	if err != nil {
		return err
	}
	page := removePage{ID: id, Now: session.FreshEID(s, w.cfg.Now()), Only: len(list) == 1, EID: w.cfg.EIDOrigin != ""}
	found, usable := false, false
	for _, d := range list {
		usable = usable || d.PINLockedAt.IsZero()
		if string(d.ID) == id {
			found = true
			page.Name, page.Model, page.Locked = d.Name, d.Model, !d.PINLockedAt.IsZero()
		}
	}
	if !found {
		return device.ErrNotFound
	}
	page.CanRequest = usable && w.levelOK(s, approval.ActionDeviceRemove)
	return w.render(rw, r, http.StatusOK, "device-remove", view{Title: w.language(r).T("web.remove.title"), LoggedIn: true, Data: page})
}

// removeDevice removes the phone at once after a fresh eID identification,
// otherwise asks a bound phone to approve the removal.
func (w *devicePages) removeDevice(rw http.ResponseWriter, r *http.Request, _ session.Token, s store.Session) error {
	id := r.PathValue("id")
	if !validID(id) {
		return device.ErrNotFound
	}
	if _, err := decodeForm(rw, r); err != nil {
		return err
	}
	res, err := w.profile.RequestDeviceRemoval(r.Context(), s, store.DeviceID(id), "portal", server.ClientIP(r))
	if err != nil {
		return err
	}
	if res.Done {
		return redirect(rw, r, "/geraete?hinweis=entfernt")
	}
	return redirect(rw, r, "/freigabe/"+res.Approval.ID)
}

// orderLetter sends the person a letter with a new activation code: for a
// new phone, or to unlock a locked PIN.
func (w *devicePages) orderLetter(rw http.ResponseWriter, r *http.Request, _ session.Token, s store.Session) error {
	if _, err := decodeForm(rw, r); err != nil {
		return err
	}
	inReview, err := w.access.OrderActivationLetter(r.Context(), s.PersonID, server.ClientIP(r), w.language(r))
	if err != nil {
		return err
	}
	if inReview {
		return redirect(rw, r, "/geraete?hinweis=brief-pruefung")
	}
	return redirect(rw, r, "/geraete?hinweis=brief")
}
