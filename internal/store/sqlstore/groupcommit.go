package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
)

// Group commit on SQLite. With synchronous=full every commit waits for its
// fsync, and SQLite has one writer: small write transactions from many
// requests queue behind each other's disk waits. Here the write transactions
// that wait at the same moment share one SQLite transaction, one commit and
// one fsync, each in its own savepoint: a transaction whose function fails
// is rolled back to its savepoint and leaves the others untouched, and each
// caller gets its result only after the shared commit is on disk. That
// holds for a transaction that failed as well: its failure may rest on the
// work of a member before it (a race it lost), so it answers only once that
// work is committed and visible to what the caller reads next, and runs
// again if the group is rolled back after all.
//
// The first caller to find the writer free leads: it begins the transaction
// and runs its own function first (without a savepoint: nothing else is in
// the transaction yet, so its failure is a plain rollback, as before). Then
// it hands the transaction, one after another, to the callers that queued
// meanwhile; each runs its function in its own goroutine, inside its own
// savepoint, and hands the transaction back. When nobody is left waiting (or
// the group has maxGroup members) the leader commits, tells every member the
// outcome, and passes the lead to the next caller in line. Nothing waits to
// fill a group: a lone transaction commits at once; under load the groups
// grow by themselves.
//
// One hazard is SQLite's own: when a statement inside a transaction is
// interrupted (its context ended) or hits a full disk, SQLite may roll back
// the whole transaction, not only the statement. The member notices that its
// savepoint is gone, the leader stops the group, and every member whose work
// was in it (the leader too) gets errGroupAborted, which inTx treats as a
// reason to run the function again in a new transaction. So a transaction is
// either committed and told so, or not committed and told to retry.

// maxGroup bounds how many transactions share one commit, so that the first
// of a group does not wait for an unbounded line of others.
const maxGroup = 64

// errGroupAborted tells a member of a group that SQLite rolled back the
// group's transaction under it: nothing of it was committed, run it again.
var errGroupAborted = errors.New("sqlstore: the shared transaction was rolled back; retry")

// errStoreClosed answers transactions that arrive after Close.
var errStoreClosed = errors.New("sqlstore: store closed")

// groupCommitter lets SQLite's write transactions share commits.
type groupCommitter struct {
	w      *sql.DB
	health *health

	mu      sync.Mutex
	busy    bool       // a leader holds the writer
	closed  bool       // Close was called
	waiting []*groupTx // in arrival order

	// Counts for tests and benchmarks: transactions run, commits made.
	txs, commits atomic.Int64
}

func newGroupCommitter(w *sql.DB, h *health) *groupCommitter {
	return &groupCommitter{w: w, health: h}
}

// groupTx is one caller's transaction.
type groupTx struct {
	ctx    context.Context
	fn     func(tx *sql.Tx) error
	turn   chan turn  // a turn in the shared transaction, or the lead
	result chan error // the commit's outcome for a member whose work is in it
}

// turn hands a member the shared transaction and where to report; the zero
// turn hands over the lead.
type turn struct {
	tx      *sql.Tx
	outcome chan<- memberOutcome
}

// memberOutcome is what a member tells the leader after its turn.
type memberOutcome int

const (
	memberIn      memberOutcome = iota // its work is in the transaction
	memberOut                          // it failed or gave up; its work was undone
	memberAborted                      // SQLite rolled back the whole transaction
)

// do runs fn in a write transaction, alone or in a group, and returns its
// result after the commit.
func (g *groupCommitter) do(ctx context.Context, fn func(tx *sql.Tx) error) error {
	t := &groupTx{ctx: ctx, fn: fn, turn: make(chan turn, 1), result: make(chan error, 1)}
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return errStoreClosed
	}
	if !g.busy {
		g.busy = true
		g.mu.Unlock()
		return g.lead(t)
	}
	g.waiting = append(g.waiting, t)
	g.mu.Unlock()
	var tr turn
	select {
	case tr = <-t.turn:
	case <-ctx.Done():
		g.mu.Lock()
		if i := slices.Index(g.waiting, t); i >= 0 {
			g.waiting = slices.Delete(g.waiting, i, i+1)
			g.mu.Unlock()
			return ctx.Err()
		}
		g.mu.Unlock()
		tr = <-t.turn // taken off the line: its turn is on the way
	}
	if tr.tx == nil {
		return g.lead(t)
	}
	return g.member(t, tr)
}

// close makes later transactions fail; those under way finish.
func (g *groupCommitter) close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
}

// next takes the first caller in line, or nil.
func (g *groupCommitter) next() *groupTx {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.waiting) == 0 {
		return nil
	}
	t := g.waiting[0]
	g.waiting = g.waiting[1:]
	return t
}

// handOn passes the lead to the first caller in line, or frees the writer.
func (g *groupCommitter) handOn() {
	g.mu.Lock()
	if len(g.waiting) == 0 {
		g.busy = false
		g.mu.Unlock()
		return
	}
	t := g.waiting[0]
	g.waiting = g.waiting[1:]
	g.mu.Unlock()
	t.turn <- turn{}
}

// lead begins a transaction, runs t's function, lets the callers in line
// add theirs, and commits.
func (g *groupCommitter) lead(t *groupTx) (err error) {
	defer g.handOn()
	if err := t.ctx.Err(); err != nil {
		return err
	}
	g.txs.Add(1)
	tx, err := g.w.BeginTx(context.WithoutCancel(t.ctx), nil)
	if err != nil {
		g.health.noteFault(err)
		return fmt.Errorf("sqlstore: begin: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			_ = tx.Rollback()
		}
	}()
	if err := t.fn(tx); err != nil {
		g.health.noteFault(err)
		return err
	}
	// members are those whose work is in the transaction; failed are those
	// whose work was undone: their failure was decided on the work of the
	// members before them, so they too wait for the commit, and run again
	// if the group is rolled back.
	var members, failed []*groupTx
	outcome := make(chan memberOutcome, 1)
	for len(members)+len(failed)+1 < maxGroup {
		m := g.next()
		if m == nil {
			break
		}
		m.turn <- turn{tx: tx, outcome: outcome}
		switch <-outcome {
		case memberIn:
			members = append(members, m)
		case memberOut:
			failed = append(failed, m)
		case memberAborted:
			for _, m := range append(members, failed...) {
				m.result <- errGroupAborted
			}
			return errGroupAborted
		}
	}
	g.commits.Add(1)
	committed = true
	if cerr := tx.Commit(); cerr != nil {
		g.health.noteFault(cerr)
		err = fmt.Errorf("sqlstore: commit: %w", cerr)
	}
	for _, m := range append(members, failed...) {
		m.result <- err
	}
	return err
}

// member runs t's function in a savepoint of the leader's transaction and
// reports to the leader; when its work is in, it waits for the commit. The
// savepoint's own statements do not watch t's context: an interrupted
// statement could take the whole transaction with it.
func (g *groupCommitter) member(t *groupTx, tr turn) (err error) {
	if err := t.ctx.Err(); err != nil {
		tr.outcome <- memberOut
		return err
	}
	g.txs.Add(1)
	quiet := context.WithoutCancel(t.ctx)
	if _, err := tr.tx.ExecContext(quiet, "SAVEPOINT member"); err != nil {
		g.health.noteFault(err)
		tr.outcome <- memberAborted
		return errGroupAborted
	}
	reported := false
	defer func() {
		if !reported {
			// fn panicked: undo it, tell the leader, wait for the
			// group's end, and go on panicking.
			o := g.undo(quiet, tr.tx)
			tr.outcome <- o
			if o == memberOut {
				<-t.result
			}
		}
	}()
	if err := t.fn(tr.tx); err != nil {
		g.health.noteFault(err)
		reported = true
		o := g.undo(quiet, tr.tx)
		tr.outcome <- o
		if o == memberOut && errors.Is(<-t.result, errGroupAborted) {
			// It failed on work that was then rolled back: decide again.
			return errGroupAborted
		}
		return err
	}
	if _, err := tr.tx.ExecContext(quiet, "RELEASE member"); err != nil {
		// fn succeeded, but its work may be gone with the transaction.
		g.health.noteFault(err)
		reported = true
		tr.outcome <- memberAborted
		return errGroupAborted
	}
	reported = true
	tr.outcome <- memberIn
	return <-t.result
}

// undo rolls a member back to its savepoint; memberAborted when the
// savepoint is gone because SQLite rolled back the whole transaction.
func (g *groupCommitter) undo(ctx context.Context, tx *sql.Tx) memberOutcome {
	if _, err := tx.ExecContext(ctx, "ROLLBACK TO member"); err != nil {
		return memberAborted
	}
	if _, err := tx.ExecContext(ctx, "RELEASE member"); err != nil {
		return memberAborted
	}
	return memberOut
}
