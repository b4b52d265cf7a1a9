package web

import (
	"errors"
	"net/http"

	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/device"
	"github.com/pforte/pforte/internal/field"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// deviceRow is one bound phone on the device page.
type deviceRow struct {
	ID, Name, Model, Level, BoundAt string
	Locked                          bool
	Value, Error                    string // the rename form, when it failed
}

// devicesPage is the data of the device page.
type devicesPage struct {
	Devices   []deviceRow
	CanRename bool // the session's level allows changes
	Notice    string
}

// devicesView builds the device page; failed is the device whose rename
// failed with problem, value what was typed.
func (w *devicePages) devicesView(r *http.Request, s store.Session, failed, value, problem string) (view, error) {
	list, err := w.devices.List(r.Context(), s.PersonID)
	if err != nil {
		return view{}, err
	}
	p := devicesPage{CanRename: w.levelOK(s, approval.ActionPersonalView)}
	if r.URL.Query().Get("hinweis") == "name" {
		p.Notice = "Der Name des Geräts wurde geändert."
	}
	f := &form{}
	for _, d := range list {
		row := deviceRow{ID: string(d.ID), Name: d.Name, Model: d.Model, Level: levelWord(d.Level), BoundAt: lang.Short(d.BoundAt),
			Locked: !d.PINLockedAt.IsZero(), Value: d.Name}
		if string(d.ID) == failed {
			row.Value, row.Error = value, problem
			f.Errors = append(f.Errors, fieldError{Field: "name-" + row.ID, Message: problem})
		}
		p.Devices = append(p.Devices, row)
	}
	return view{Title: "Meine Geräte", LoggedIn: true, Form: f, Data: p}, nil
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
		v, verr := w.devicesView(r, s, id, values["name"], invalid.Message)
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
