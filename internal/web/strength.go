package web

import (
	"encoding/json"
	"net/http"

	"github.com/pforte/pforte/internal/lang"
)

// strengthLabel names a score (0 to 4) the meter shows.
func strengthLabel(l lang.Language, score int) string {
	switch score {
	case 1:
		return l.T("web.strength.very_weak")
	case 2:
		return l.T("web.strength.weak")
	case 3:
		return l.T("web.strength.good")
	case 4:
		return l.T("web.strength.strong")
	}
	return l.T("web.strength.unsuitable")
}

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
	score = max(0, min(score, 4))
	rw.Header().Set("Content-Type", "application/json; charset=utf-8")
	return json.NewEncoder(rw).Encode(struct {
		Score int    `json:"score"`
		Label string `json:"label"`
	}{score, strengthLabel(w.language(r), score)})
}
