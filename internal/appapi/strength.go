package appapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/pforte/pforte/internal/password"
	"github.com/pforte/pforte/internal/server"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// strengthRater rates proposed passwords with the password policy (package
// account): Strength gives the meter's score, CheckNew the reasons the
// password would be refused. The account service the API is built with has
// both; without them the meter's route is not offered.
type strengthRater interface {
	Strength(p *store.Person, pw string) int
	CheckNew(p store.Person, pw string) []password.Reason
}

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

// strengthMeter answers the app's strength meter: the score (0 to 4) of a
// proposed password and, when the policy would refuse it, why (German), by
// the same rules that accept or refuse it in POST /api/v1/password and the
// portal. With a Bearer session the person's data count (KVNR, name, birth
// date); without one, only the general rules. It never stores or logs the
// password; a per-address limit (5 a second, bursts of 30: a typist's pace)
// keeps it from being a guessing oracle at scale. ok is false when the
// account service cannot rate passwords.
func (a *API) strengthMeter() (h http.Handler, ok bool) {
	rater, ok := a.accounts.(strengthRater)
	if !ok {
		return nil, false
	}
	limiter := server.NewIPLimiter(5, 30, time.Now)
	return a.handle(func(w http.ResponseWriter, r *http.Request) error {
		if ok, wait := limiter.Allow(r); !ok {
			return &rateLimited{wait: wait}
		}
		var req strengthRequest
		if err := decode(r, &req); err != nil {
			return err
		}
		if req.Password == nil {
			return &errBadRequest{"Bitte geben Sie das Passwort an (password)."}
		}
		pw := *req.Password
		if len(pw) > 1024 {
			pw = pw[:1024] // still far over the policy's 128 characters
		}
		var person *store.Person
		if tok, ok := bearer(r); ok {
			s, err := a.sessions.Authenticate(r.Context(), tok)
			if err != nil && !errors.Is(err, session.ErrNoSession) {
				return err
			}
			if err == nil {
				p, err := a.persons.PersonByID(r.Context(), s.PersonID)
				if err != nil {
					return err
				}
				person = &p
			}
		}
		var reasons []password.Reason
		if person != nil {
			reasons = rater.CheckNew(*person, pw)
		} else {
			reasons = rater.CheckNew(store.Person{}, pw)
		}
		score := max(0, min(rater.Strength(person, pw), len(strengthLabels)-1))
		out := strengthResponse{Score: score, Label: strengthLabels[score], Reasons: make([]reasonJSON, 0, len(reasons))}
		for _, rs := range reasons {
			out.Reasons = append(out.Reasons, reasonJSON{Code: rs.String(), Message: rs.Message("de")})
		}
		return writeJSON(w, http.StatusOK, out)
	}), true
}
