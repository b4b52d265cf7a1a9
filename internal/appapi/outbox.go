package appapi

import (
	"crypto/subtle"
	"net/http"
	"strconv"

	"github.com/pforte/pforte/internal/profile"
)

// outboxHandlers serve the core insurance system the approved changes.
type outboxHandlers struct {
	*base
	profile Profile
	token   string // the core system's bearer token; empty: closed
}

func (h *outboxHandlers) routes(m map[string]http.Handler) {
	m["GET /api/v1/outbox"] = h.handle(h.outbox)
}

type outboxJSON struct {
	Events []profile.OutboxEvent `json:"events"`
	Next   int64                 `json:"next"`
}

// outbox serves the core system: events after the cursor, at least once;
// event ids make them idempotent.
func (h *outboxHandlers) outbox(w http.ResponseWriter, r *http.Request) error {
	tok, ok := bearer(r)
	if h.token == "" || !ok || subtle.ConstantTimeCompare([]byte(tok), []byte(h.token)) != 1 {
		return errUnauthenticated
	}
	q := r.URL.Query()
	var after int64
	if v := q.Get("after"); v != "" {
		var err error
		after, err = strconv.ParseInt(v, 10, 64)
		if err != nil || after < 0 {
			return bad("after muss eine nicht negative ganze Zahl sein.")
		}
	}
	limit := 100
	if l := q.Get("limit"); l != "" {
		var err error
		limit, err = strconv.Atoi(l)
		if err != nil || limit < 1 || limit > 1000 {
			return bad("limit muss zwischen 1 und 1000 liegen.")
		}
	}
	events, err := h.profile.Outbox(r.Context(), after, limit)
	if err != nil {
		return err
	}
	next := after
	if len(events) > 0 {
		next = events[len(events)-1].Seq
	}
	if events == nil {
		events = []profile.OutboxEvent{}
	}
	return writeJSON(w, http.StatusOK, outboxJSON{Events: events, Next: next})
}
