package approval

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/pforte/pforte/internal/store"
)

// subscriberBuffer is how many notifications a subscriber may fall behind.
const subscriberBuffer = 16

// hub is the in-process broadcaster: every request a Service creates or
// answers is offered to the subscribers of its person on this node.
type hub struct {
	mu   sync.Mutex
	subs map[store.PersonID]map[chan store.Approval]struct{}
}

// publish offers a to every subscriber of its person without ever blocking.
// Rule for a full buffer: the oldest queued notification is dropped and a is
// queued, so a slow subscriber sees the latest state; Watch and Await re-read
// the database on every poll, so a dropped notification only delays them.
func (h *hub) publish(a store.Approval) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs[a.PersonID] {
		for {
			select {
			case ch <- a:
			default:
				select {
				case <-ch: // drop the oldest and try again
				default:
				}
				continue
			}
			break
		}
	}
}

func (h *hub) subscribe(id store.PersonID) (<-chan store.Approval, func()) {
	ch := make(chan store.Approval, subscriberBuffer)
	h.mu.Lock()
	if h.subs == nil {
		h.subs = map[store.PersonID]map[chan store.Approval]struct{}{}
	}
	if h.subs[id] == nil {
		h.subs[id] = map[chan store.Approval]struct{}{}
	}
	h.subs[id][ch] = struct{}{}
	h.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			delete(h.subs[id], ch)
			if len(h.subs[id]) == 0 {
				delete(h.subs, id)
			}
			close(ch)
		})
	}
}

// Subscribe returns a channel of the person's requests as this Service creates
// and answers them, and a function that ends the subscription and closes the
// channel. It sees only this node: requests created or answered by another
// process reach Watch and Await through their database poll. The channel holds
// up to 16 notifications; when it is full the oldest is dropped (see publish).
// Approval.Number is for the portal only: never send it to a device.
func (s *Service) Subscribe(id store.PersonID) (<-chan store.Approval, func()) {
	return s.hub.subscribe(id)
}

// Watch delivers the person's pending requests to a device's push channel:
// first those pending now, then each new one once, and for a request it has
// delivered, its final state (approved, declined or expired) once. Requests of
// this node arrive at once through Subscribe; those created or answered on other
// nodes arrive within interval, by polling PendingApprovals. The channel is
// closed when ctx ends; the reader must keep reading until then.
func (s *Service) Watch(ctx context.Context, id store.PersonID, interval time.Duration) <-chan store.Approval {
	out := make(chan store.Approval)
	sub, cancel := s.Subscribe(id)
	go func() {
		defer close(out)
		defer cancel()
		w := watcher{s: s, id: id, out: out, delivered: map[string]bool{}}
		ticker := time.NewTicker(interval)
		defer ticker.Stop()
		if !w.poll(ctx) {
			return
		}
		for {
			select {
			case <-ctx.Done():
				return
			case a := <-sub:
				if !w.offer(ctx, s.view(a)) {
					return
				}
			case <-ticker.C:
				if !w.poll(ctx) {
					return
				}
			}
		}
	}()
	return out
}

type watcher struct {
	s         *Service
	id        store.PersonID
	out       chan<- store.Approval
	delivered map[string]bool // pending requests already delivered
}

func (w *watcher) send(ctx context.Context, a store.Approval) bool {
	select {
	case w.out <- a:
		return true
	case <-ctx.Done():
		return false
	}
}

// offer delivers a new pending request once, and the final state of one
// delivered before; it reports false when ctx ended.
func (w *watcher) offer(ctx context.Context, a store.Approval) bool {
	switch {
	case a.Status == store.ApprovalPending && !w.delivered[a.ID]:
		w.delivered[a.ID] = true
		return w.send(ctx, a)
	case a.Status != store.ApprovalPending && w.delivered[a.ID]:
		delete(w.delivered, a.ID)
		return w.send(ctx, a)
	}
	return true
}

// poll reads the pending requests from the database: new ones are delivered,
// delivered ones that are no longer pending are reloaded for their final state.
func (w *watcher) poll(ctx context.Context) bool {
	list, err := w.s.store.PendingApprovals(ctx, w.id, w.s.now())
	if err != nil {
		if ctx.Err() == nil {
			w.s.logger.Error("approval watch", slog.Any("error", err))
		}
		return ctx.Err() == nil
	}
	pending := make(map[string]bool, len(list))
	for _, a := range list {
		pending[a.ID] = true
		if !w.offer(ctx, a) {
			return false
		}
	}
	for id := range w.delivered {
		if pending[id] {
			continue
		}
		a, err := w.s.store.ApprovalByID(ctx, id)
		if err != nil {
			delete(w.delivered, id)
			continue
		}
		if !w.offer(ctx, w.s.view(a)) {
			return false
		}
	}
	return true
}

// Await waits until the person's request id is no longer pending and returns
// it: answered on this node it returns at once, answered on another node or
// expired within interval. ErrNotFound for a request of someone else.
func (s *Service) Await(ctx context.Context, id string, person store.PersonID, interval time.Duration) (store.Approval, error) {
	sub, cancel := s.Subscribe(person)
	defer cancel()
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		a, err := s.Status(ctx, id, person)
		if err != nil || a.Status != store.ApprovalPending {
			return a, err
		}
	wait:
		for {
			select {
			case <-ctx.Done():
				return store.Approval{}, ctx.Err()
			case b := <-sub:
				if b.ID == id && b.Status != store.ApprovalPending {
					return s.view(b), nil
				}
			case <-ticker.C:
				break wait
			}
		}
	}
}
