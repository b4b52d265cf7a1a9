package audit

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/pforte/pforte/internal/store"
)

// maxBatch bounds how many entries one append writes.
const maxBatch = 256

// commitTimeout bounds one append. The append does not end when the leader's
// caller gives up (that would fail the other callers' entries in the batch),
// so it needs a limit of its own.
const commitTimeout = 30 * time.Second

// Appender is the part of the store that Record writes through.
type Appender interface {
	// AppendAudit calls fn with the current head while holding the chain's
	// lock across all processes, then stores the entries fn returns and moves
	// the head to the last of them, all in one transaction. The entries must
	// continue the chain (Seq head.Seq+1, +2, …; the first PrevHash equal to
	// head.Hash), otherwise nothing is written and store.ErrConflict is
	// returned. fn may run more than once; only its last result is stored.
	AppendAudit(ctx context.Context, fn func(head store.AuditHead) ([]store.AuditEntry, error)) error
}

// Log records events into the audit trail. It is safe for concurrent use and
// needs no Close: it starts no goroutines.
type Log struct {
	chain  Appender
	key    Key
	now    func() time.Time
	logger *slog.Logger

	mu sync.Mutex
	// queue holds requests not yet handed to the store, in arrival (and so
	// time) order. Only the leader takes from its front.
	queue []*request
	// leading is true while some caller is the leader: between finding no
	// append in flight and handing the lead on or finding the queue empty.
	leading bool
}

// request is one Record call's entry and its way back to the caller.
//
// Its state moves, always under Log.mu:
//
//	queued ──(leader hands over the lead)──▶ promoted ──(takes own batch)──▶ taken
//	queued ──(a leader takes it into its batch)──────────────────────────▶ taken
//	queued or promoted ──(caller's context ends)──▶ removed from the queue
type request struct {
	p     prepared
	time  time.Time
	state requestState
	// wake receives exactly one message: the lead, or the append's outcome.
	// It is buffered so that the sender never waits for a caller that has
	// already given up.
	wake chan wakeup
}

type requestState int

const (
	queued requestState = iota
	promoted
	taken
)

type wakeup struct {
	lead bool
	err  error
}

// New returns a Log that appends to chain, keys every entry's hash with key,
// timestamps entries with now and logs failed appends to logger. A nil now
// means time.Now; a nil logger discards. The zero Key is a programming error:
// New panics rather than write a chain nobody can tell from a forgery.
func New(chain Appender, key Key, now func() time.Time, logger *slog.Logger) *Log {
	if key.IsZero() {
		panic("audit: New with the zero Key")
	}
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Log{chain: chain, key: key, now: now, logger: logger}
}

// Record appends one entry for ev and returns once it is committed. It returns
// an error wrapping ErrInvalid, without writing, if ev breaks the rules listed
// on Event; the caller must pass only non-secret details.
//
// If ctx ends while the entry waits for its turn, Record withdraws it and
// returns ctx's error; if the entry was already handed to the store, Record
// returns ctx's error without knowing whether it was committed. Either way the
// chain stays intact, and other callers' entries are unaffected: the append
// itself runs on a context that keeps ctx's values but not its cancellation.
// A caller that must record an event even when its request is cancelled (a
// failed login whose client hung up) passes context.WithoutCancel(ctx).
func (l *Log) Record(ctx context.Context, ev Event) error {
	p, err := prepare(ev)
	if err != nil {
		return err
	}
	r := &request{p: p, wake: make(chan wakeup, 1)}

	l.mu.Lock()
	// Taking the time under the lock keeps Seq order and time order the same
	// (as far as the clock goes forward).
	r.time = entryTime(l.now())
	l.queue = append(l.queue, r)
	if l.leading {
		l.mu.Unlock()
		select {
		case w := <-r.wake:
			if !w.lead {
				return w.err
			}
		case <-ctx.Done():
			return l.abandon(r, ctx.Err())
		}
	} else {
		l.leading = true
		l.mu.Unlock()
	}
	return l.lead(ctx, r)
}

// Within returns ev's entry for a write that appends it in its own
// transaction (store.AuditAppend), so that the entry commits exactly when the
// change it records does: the continuation of whatever head that transaction
// finds under the chain's lock, timed when it runs there.
func (l *Log) Within(ev Event) (store.AuditAppend, error) {
	p, err := prepare(ev)
	if err != nil {
		return nil, err
	}
	return func(head store.AuditHead) ([]store.AuditEntry, error) {
		r := &request{p: p, time: entryTime(l.now())}
		return chainEntries(l.key, head, []*request{r})
	}, nil
}

// lead appends a batch from the front of the queue, which starts with r, tells
// the batch's other callers the outcome and hands the lead on.
func (l *Log) lead(ctx context.Context, r *request) error {
	// The callers of the previous batch were just woken and are about to
	// record their next events. Yielding once lets them queue before this
	// batch closes; without it, writers split into two groups that take
	// turns, and each append carries half of them.
	runtime.Gosched()
	l.mu.Lock()
	n := min(len(l.queue), maxBatch)
	batch := slices.Clone(l.queue[:n])
	l.queue = slices.Delete(l.queue, 0, n)
	for _, b := range batch {
		b.state = taken
	}
	l.mu.Unlock()

	err := l.commit(ctx, batch)
	for _, b := range batch {
		if b != r {
			b.wake <- wakeup{err: err}
		}
	}

	l.mu.Lock()
	l.handOff()
	l.mu.Unlock()
	return err
}

// handOff passes the lead to the first waiting request, or ends leadership if
// none waits. l.mu must be held.
func (l *Log) handOff() {
	if len(l.queue) == 0 {
		l.leading = false
		return
	}
	next := l.queue[0]
	next.state = promoted
	next.wake <- wakeup{lead: true}
}

// abandon handles a caller whose context ended while it waited.
func (l *Log) abandon(r *request, cause error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch r.state {
	case queued:
		l.remove(r)
	case promoted:
		// The lead was handed to r, which no longer wants it: withdraw r
		// and pass the lead on.
		<-r.wake
		l.remove(r)
		l.handOff()
	case taken:
		// The entry is with the store. If the outcome is already known,
		// report it; otherwise it will arrive in the buffered channel
		// unread.
		select {
		case w := <-r.wake:
			return w.err
		default:
			return fmt.Errorf("audit: record: outcome unknown: %w", cause)
		}
	}
	return fmt.Errorf("audit: record: %w", cause)
}

// remove deletes r from the queue. l.mu must be held.
func (l *Log) remove(r *request) {
	if i := slices.Index(l.queue, r); i >= 0 {
		l.queue = slices.Delete(l.queue, i, i+1)
	}
}

// commit appends the batch in one AppendAudit call.
func (l *Log) commit(ctx context.Context, batch []*request) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
	defer cancel()
	err := l.chain.AppendAudit(ctx, func(head store.AuditHead) ([]store.AuditEntry, error) {
		return chainEntries(l.key, head, batch)
	})
	if err != nil {
		l.logger.LogAttrs(ctx, slog.LevelError, "audit append failed",
			slog.Int("entries", len(batch)), slog.String("error", err.Error()))
		return fmt.Errorf("audit: append: %w", err)
	}
	return nil
}

// chainEntries builds the batch's entries as continuation of head, their
// hashes keyed with key. It keeps no state, so it gives the same entries
// however often the store calls it with the same head.
func chainEntries(key Key, head store.AuditHead, batch []*request) ([]store.AuditEntry, error) {
	if head.Seq < 0 || (head.Seq == 0) != (len(head.Hash) == 0) || (head.Seq > 0 && len(head.Hash) != 32) {
		return nil, fmt.Errorf("audit: malformed chain head at seq %d", head.Seq)
	}
	entries := make([]store.AuditEntry, len(batch))
	prev := head
	for i, r := range batch {
		e := store.AuditEntry{
			Seq:      prev.Seq + 1,
			Time:     r.time,
			Actor:    r.p.actor,
			Event:    r.p.event,
			Subject:  r.p.subject,
			ClientIP: r.p.clientIP,
			Details:  r.p.details,
			PrevHash: prev.Hash,
		}
		e.Hash = keyedHash(key, e)
		entries[i] = e
		prev = store.AuditHead{Seq: e.Seq, Hash: e.Hash}
	}
	return entries, nil
}
