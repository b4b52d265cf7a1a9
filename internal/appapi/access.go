package appapi

import (
	"net/http"

	"github.com/pforte/pforte/internal/access"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// accessHandlers are the requests without a login (access, forgotten
// password) and the activation letter of a logged-in person.
type accessHandlers struct {
	*base
	access Access
	portal string // the portal's base URL
}

func (h *accessHandlers) routes(m map[string]http.Handler) {
	m["POST /api/v1/access-requests"] = h.handle(h.createAccessRequest)
	m["POST /api/v1/password-resets"] = h.handle(h.createPasswordReset)
	m["POST /api/v1/activation-letters"] = h.chosenPassword(h.orderActivationLetter)
}

type accessRequest struct {
	KVNR       *string `json:"kvnr"`
	PostalCode *string `json:"postal_code"`
	BirthDate  *string `json:"birth_date"`
	Method     *string `json:"method"`
}

type accessResponse struct {
	Status  string `json:"status"`
	Message string `json:"message"`
	// RedirectURL is where the app sends the person for the eID: a portal
	// address that hands the browser on to the identification partner.
	RedirectURL string `json:"redirect_url,omitempty"`
}

// EIDStartPath is the portal route that takes a browser from an API eID start
// to the partner (package web serves it).
const EIDStartPath = "/eid/start/"

// createAccessRequest answers every well-formed request identically.
func (h *accessHandlers) createAccessRequest(w http.ResponseWriter, r *http.Request) error {
	return h.accessOrReset(w, r, access.PurposeAccess)
}

// createPasswordReset is the forgotten-password twin of createAccessRequest.
func (h *accessHandlers) createPasswordReset(w http.ResponseWriter, r *http.Request) error {
	return h.accessOrReset(w, r, access.PurposeReset)
}

func (h *accessHandlers) accessOrReset(w http.ResponseWriter, r *http.Request, purpose string) error {
	if err := h.limit(r); err != nil {
		return err
	}
	var req accessRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.KVNR == nil || req.PostalCode == nil || req.BirthDate == nil || req.Method == nil {
		return bad("Bitte geben Sie Versichertennummer, Postleitzahl, Geburtsdatum und Verfahren an.")
	}
	if *req.Method != "letter" && *req.Method != "eid" {
		return bad("Als Verfahren sind \"eid\" (Online-Ausweis) und \"letter\" (Brief an die hinterlegte Adresse) möglich.")
	}
	if len(*req.KVNR) > 32 || len(*req.PostalCode) > 16 || len(*req.BirthDate) > 32 {
		return bad("Ein Feld ist zu lang.")
	}
	in := access.Request{KVNR: *req.KVNR, PostalCode: *req.PostalCode, BirthDate: *req.BirthDate, ClientIP: remoteIP(r),
		Language: requestLanguage(r)}
	if *req.Method == "eid" {
		start, err := h.access.StartEID(r.Context(), in, purpose)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusAccepted, accessResponse{Status: "accepted",
			Message:     "Bitte weisen Sie sich mit Ihrem Personalausweis aus.",
			RedirectURL: h.portal + EIDStartPath + start.Flow})
	}
	var err error
	if purpose == access.PurposeReset {
		err = h.access.RequestReset(r.Context(), in)
	} else {
		err = h.access.RequestLetter(r.Context(), in)
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, accessResponse{Status: "accepted",
		Message: "Wenn Ihre Angaben zu unseren Daten passen, schicken wir Ihnen einen Brief an Ihre bei uns hinterlegte Adresse."})
}

// requestLanguage is the language the app asks in (Accept-Language): the
// letter a request causes is in it unless the person chose a language.
func requestLanguage(r *http.Request) lang.Language {
	return lang.Negotiate(r.Header.Get("Accept-Language"))
}

type activationLetterResponse struct {
	Status   string `json:"status"`
	InReview bool   `json:"in_review"`
	Message  string `json:"message"`
}

// orderActivationLetter sends the logged-in person an activation letter (QR
// code only) to bind a phone.
func (h *accessHandlers) orderActivationLetter(w http.ResponseWriter, r *http.Request, _ session.Token, s store.Session) error {
	inReview, err := h.access.OrderActivationLetter(r.Context(), s.PersonID, remoteIP(r), requestLanguage(r))
	if err != nil {
		return err
	}
	msg := "Wir schicken Ihnen einen Brief mit dem QR-Code für die Service-App an Ihre hinterlegte Anschrift."
	if inReview {
		msg = "Ihre Anschrift muss noch bestätigt werden; danach schicken wir Ihnen den Brief mit dem QR-Code."
	}
	return writeJSON(w, http.StatusAccepted, activationLetterResponse{Status: "accepted", InReview: inReview, Message: msg})
}
