package appapi

import (
	"errors"
	"net/http"

	"github.com/pforte/pforte/internal/password"
	"github.com/pforte/pforte/internal/store"
)

// strengthLabels name the scores as the portal's meter does.
var strengthLabels = [...]string{"nicht geeignet", "sehr schwach", "schwach", "gut", "stark"}

type strengthRequest struct {
	Password *string `json:"password"`
}

type strengthResponse struct {
	Score   int          `json:"score"`
	Label   string       `json:"label"`
	Reasons []reasonJSON `json:"reasons"`
}

// strength answers the app's strength meter: the score (0 to 4) of a
// proposed password and, when the policy would refuse it, why (German), by
// the same rules that accept or refuse it in POST /api/v1/password and the
// portal. With a Bearer session the person's data count (KVNR, name, birth
// date); without one, only the general rules. It never stores or logs the
// password; a per-address limit (5 a second, bursts of 30: a typist's pace)
// keeps it from being a guessing oracle at scale.
func (h *sessionHandlers) strength(w http.ResponseWriter, r *http.Request) error {
	if ok, wait := h.meter.Allow(r); !ok {
		return limited(wait)
	}
	var req strengthRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.Password == nil {
		return bad("Bitte geben Sie das Passwort an (password).")
	}
	pw := *req.Password
	if len(pw) > 1024 {
		pw = pw[:1024] // still far over the policy's 128 characters
	}
	var person *store.Person
	if _, s, err := h.session(r); err == nil {
		p, err := h.persons.PersonByID(r.Context(), s.PersonID)
		if err != nil {
			return err
		}
		person = &p
	} else if !errors.Is(err, errUnauthenticated) {
		return err
	}
	var reasons []password.Reason
	if person != nil {
		reasons = h.accounts.CheckNew(*person, pw)
	} else {
		reasons = h.accounts.CheckNew(store.Person{}, pw)
	}
	score := max(0, min(h.accounts.Strength(person, pw), len(strengthLabels)-1))
	out := strengthResponse{Score: score, Label: strengthLabels[score], Reasons: make([]reasonJSON, 0, len(reasons))}
	for _, rs := range reasons {
		out.Reasons = append(out.Reasons, reasonJSON{Code: rs.String(), Message: rs.Message("de")})
	}
	return writeJSON(w, http.StatusOK, out)
}
