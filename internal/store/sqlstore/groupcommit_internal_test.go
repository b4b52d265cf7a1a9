package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// groupProbe opens a SQLite store with a probe table of its own.
func groupProbe(t *testing.T) *Store {
	t.Helper()
	st, err := Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "g.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.w.ExecContext(t.Context(), "CREATE TABLE probe (id INTEGER PRIMARY KEY, who TEXT NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	return st
}

// holdCommitter runs a transaction that waits until release is closed, so
// that what is sent meanwhile queues up and forms one group.
func holdCommitter(t *testing.T, st *Store) (release func(), wait func()) {
	t.Helper()
	started, ch := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	var once sync.Once
	wg.Go(func() {
		// It leads the group; when the group is rolled back under it, it
		// runs again.
		if err := st.inTx(context.Background(), func(*sql.Tx) error {
			once.Do(func() { close(started) })
			<-ch
			return nil
		}); err != nil {
			t.Error(err)
		}
	})
	<-started
	return func() { close(ch) }, wg.Wait
}

// queued waits until n transactions wait for the committer.
func queued(t *testing.T, st *Store, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st.group.mu.Lock()
		got := len(st.group.waiting)
		st.group.mu.Unlock()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d transactions queued, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

func probeRows(t *testing.T, st *Store) map[string]int {
	t.Helper()
	rows, err := st.r.QueryContext(t.Context(), "SELECT who FROM probe")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]int{}
	for rows.Next() {
		var who string
		if err := rows.Scan(&who); err != nil {
			t.Fatal(err)
		}
		got[who]++
	}
	return got
}

func insertProbe(ctx context.Context, tx *sql.Tx, who string) error {
	_, err := tx.ExecContext(ctx, "INSERT INTO probe (who) VALUES ($1)", who)
	return err
}

// Transactions waiting at the same moment share one commit, and the failure
// of one undoes its own writes and nothing of the others'.
func TestGroupCommitMemberFailureUndoesOnlyItself(t *testing.T) {
	st := groupProbe(t)
	release, wait := holdCommitter(t, st)
	const n = 40
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			who := fmt.Sprintf("m%02d", i)
			errs[i] = st.inTx(t.Context(), func(tx *sql.Tx) error {
				if err := insertProbe(t.Context(), tx, who); err != nil {
					return err
				}
				if i%3 == 0 {
					return fmt.Errorf("member %s refuses", who)
				}
				// A second write after the first, as real transactions do.
				return insertProbe(t.Context(), tx, who)
			})
		})
	}
	queued(t, st, n)
	commitsBefore := st.group.commits.Load()
	release()
	wait()
	wg.Wait()
	if c := st.group.commits.Load() - commitsBefore; c > 2 {
		t.Errorf("%d transactions took %d commits after the held one, want them to share", n, c)
	}
	got := probeRows(t, st)
	for i := range n {
		who := fmt.Sprintf("m%02d", i)
		if i%3 == 0 {
			if errs[i] == nil || got[who] != 0 {
				t.Errorf("%s failed: error %v, %d rows left, want an error and none", who, errs[i], got[who])
			}
			continue
		}
		if errs[i] != nil || got[who] != 2 {
			t.Errorf("%s: error %v, %d rows, want none and 2", who, errs[i], got[who])
		}
	}
}

// A member whose statement is interrupted (its context ended while it ran)
// may make SQLite roll back the whole shared transaction; the members that
// had succeeded in it must then run again, neither lost nor doubled.
func TestGroupCommitInterruptedMember(t *testing.T) {
	st := groupProbe(t)
	release, wait := holdCommitter(t, st)
	const n = 12
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			who := fmt.Sprintf("m%02d", i)
			ctx := t.Context()
			if i == n/2 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				defer cancel()
				errs[i] = st.inTx(ctx, func(tx *sql.Tx) error {
					if err := insertProbe(ctx, tx, who); err != nil {
						return err
					}
					time.AfterFunc(30*time.Millisecond, cancel)
					// A statement that runs until it is interrupted.
					_, err := tx.ExecContext(ctx, `INSERT INTO probe (who)
						WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000)
						SELECT 'never' FROM c WHERE x = 1000000000`)
					return err
				})
				return
			}
			errs[i] = st.inTx(ctx, func(tx *sql.Tx) error { return insertProbe(ctx, tx, who) })
		})
		// In order: half the group runs before the interrupted member.
		queued(t, st, i+1)
	}
	release()
	wait()
	wg.Wait()
	got := probeRows(t, st)
	for i := range n {
		who := fmt.Sprintf("m%02d", i)
		if i == n/2 {
			if errs[i] == nil || got[who] != 0 || got["never"] != 0 {
				t.Errorf("interrupted %s: error %v, rows %d, want an error and none", who, errs[i], got[who])
			}
			continue
		}
		if errs[i] != nil || got[who] != 1 {
			t.Errorf("%s: error %v, %d rows, want none and exactly 1", who, errs[i], got[who])
		}
	}
}

// A panic in one member is the caller's panic; the others commit.
func TestGroupCommitPanicStaysWithItsCaller(t *testing.T) {
	st := groupProbe(t)
	release, wait := holdCommitter(t, st)
	var wg sync.WaitGroup
	var recovered any
	errs := make([]error, 3)
	for i := range 3 {
		wg.Go(func() {
			if i == 1 {
				defer func() { recovered = recover() }()
			}
			errs[i] = st.inTx(t.Context(), func(tx *sql.Tx) error {
				if err := insertProbe(t.Context(), tx, fmt.Sprint(i)); err != nil {
					return err
				}
				if i == 1 {
					panic("member 1")
				}
				return nil
			})
		})
		queued(t, st, i+1)
	}
	release()
	wait()
	wg.Wait()
	if recovered != "member 1" {
		t.Errorf("recovered %v, want the member's panic", recovered)
	}
	got := probeRows(t, st)
	if errs[0] != nil || errs[2] != nil || got["0"] != 1 || got["2"] != 1 || got["1"] != 0 {
		t.Errorf("errors %v, rows %v: want members 0 and 2 committed, 1 not", errs, got)
	}
}

// After Close nothing is run and nobody waits forever.
func TestGroupCommitAfterClose(t *testing.T) {
	st := groupProbe(t)
	st.Close()
	err := st.inTx(t.Context(), func(tx *sql.Tx) error { return insertProbe(t.Context(), tx, "late") })
	if !errors.Is(err, errStoreClosed) {
		t.Errorf("after close: %v, want errStoreClosed", err)
	}
}

// A member that fails on the work of a member before it (a race it lost)
// answers only after the group's commit: what it reads next shows the
// winner's work, as it would had the two committed one after the other.
func TestGroupCommitFailedMemberAnswersAfterTheCommit(t *testing.T) {
	st := groupProbe(t)
	release, wait := holdCommitter(t, st)
	var wg sync.WaitGroup
	var seen map[string]int
	var loserErr error
	errLost := errors.New("lost the race")
	wg.Go(func() {
		if err := st.inTx(t.Context(), func(tx *sql.Tx) error { return insertProbe(t.Context(), tx, "winner") }); err != nil {
			t.Error(err)
		}
	})
	queued(t, st, 1)
	wg.Go(func() {
		loserErr = st.inTx(t.Context(), func(tx *sql.Tx) error {
			var n int
			if err := tx.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM probe WHERE who = 'winner'").Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return errLost
			}
			return insertProbe(t.Context(), tx, "winner")
		})
		seen = probeRows(t, st) // on a reader: committed work only
	})
	queued(t, st, 2)
	wg.Go(func() {
		// A slow member after the loser keeps the group open.
		if err := st.inTx(t.Context(), func(tx *sql.Tx) error {
			time.Sleep(100 * time.Millisecond)
			return insertProbe(t.Context(), tx, "slow")
		}); err != nil {
			t.Error(err)
		}
	})
	queued(t, st, 3)
	release()
	wait()
	wg.Wait()
	if !errors.Is(loserErr, errLost) || seen["winner"] != 1 {
		t.Errorf("the loser got %v and then read %v; want its own error and the winner's row", loserErr, seen)
	}
}
