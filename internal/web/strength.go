package web

import (
	"encoding/json"
	"net/http"
)

// strengthLabels name the scores the meter shows.
var strengthLabels = [...]string{"nicht geeignet", "sehr schwach", "schwach", "gut", "stark"}

// strength answers the strength-meter script: the score (0 to 4) of a
// proposed password, against the person's data when a session is present. It
// never stores or logs the password; the client-address limit keeps it from
// being a guessing oracle at scale.
func (w *accountPages) strength(rw http.ResponseWriter, r *http.Request) error {
	if ok, wait := w.meter.Allow(r); !ok {
		return rateLimited(wait)
	}
	values, err := decodeForm(rw, r, "password")
	if err != nil {
		return err
	}
	var score int
	if _, s, err := w.currentSession(r); err == nil {
		p, err := w.persons.PersonByID(r.Context(), s.PersonID)
		if err != nil {
			return err
		}
		score = w.accounts.Strength(&p, values["password"])
	} else {
		score = w.accounts.Strength(nil, values["password"])
	}
	score = max(0, min(score, len(strengthLabels)-1))
	rw.Header().Set("Content-Type", "application/json; charset=utf-8")
	return json.NewEncoder(rw).Encode(struct {
		Score int    `json:"score"`
		Label string `json:"label"`
	}{score, strengthLabels[score]})
}
