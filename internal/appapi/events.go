package appapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// Stream limits: a stream ends after streamMaxAge (the app reconnects), sends a
// comment every heartbeat so proxies keep it open, and polls the database every
// pollEvery for requests created on other nodes.
const (
	streamMaxAge = 10 * time.Minute
	heartbeat    = 15 * time.Second
	pollEvery    = 2 * time.Second
)

type eventJSON struct {
	approvalJSON
	Status string `json:"status"`
}

// approvalEvents is the server-sent event stream of the person's approval
// requests: each pending request once as event "approval", and its final state
// once as event "approval.done". Polling GET /api/v1/app/approvals gives the
// same requests to an app that cannot keep a stream open. With a mailbox it
// also sends event "mailbox" with the number of unread messages, at the
// start and whenever it changes (checked every pollEvery): that a message
// arrived, never what it says.
func (h *approvalHandlers) approvalEvents(w http.ResponseWriter, r *http.Request, _ session.Token, s store.Session) error {
	if err := deviceSession(s); err != nil {
		return err
	}
	rc := http.NewResponseController(w)
	// The server's write timeout is for ordinary answers; a stream lives
	// until streamMaxAge.
	if err := rc.SetWriteDeadline(time.Now().Add(streamMaxAge + time.Minute)); err != nil {
		return fmt.Errorf("appapi: events: %w", err)
	}
	ctx, cancel := context.WithTimeout(r.Context(), streamMaxAge)
	defer cancel()
	if h.draining != nil {
		go func() {
			select {
			case <-h.draining:
				cancel()
			case <-ctx.Done():
			}
		}()
	}
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 3000\n\n")
	if err := rc.Flush(); err != nil {
		return nil
	}
	events := h.approvals.Watch(ctx, s.PersonID, pollEvery)
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	mailTick := time.NewTicker(pollEvery)
	defer mailTick.Stop()
	unread := -1
	mail := func() {
		if h.mailbox == nil {
			return
		}
		n, err := h.mailbox.Unread(ctx, s.PersonID)
		if err != nil || n == unread {
			return
		}
		unread = n
		fmt.Fprintf(w, "event: mailbox\ndata: {\"unread\":%d}\n\n", n)
	}
	mail()
	if err := rc.Flush(); err != nil {
		return nil
	}
	for {
		select {
		case <-tick.C:
			fmt.Fprint(w, ": keep-alive\n\n")
		case <-mailTick.C:
			mail()
		case x, ok := <-events:
			if !ok {
				return nil
			}
			name := "approval"
			if x.Status != store.ApprovalPending {
				name = "approval.done"
			}
			j := eventJSON{approvalJSON: approvalJSON{ApprovalID: x.ID, Action: x.Action, Text: x.Text, Data: x.Data,
				ContentHash: x.ContentHash, CreatedAt: x.CreatedAt, ExpiresAt: x.ExpiresAt}, Status: string(x.Status)}
			if x.Action == approval.ActionPortalLogin {
				j.NumberChoices = x.Choices
			}
			b, err := json.Marshal(j)
			if err != nil {
				return nil
			}
			fmt.Fprintf(w, "id: %s\nevent: %s\ndata: %s\n\n", x.ID, name, b)
		}
		if err := rc.Flush(); err != nil {
			return nil // the client went away
		}
	}
}
