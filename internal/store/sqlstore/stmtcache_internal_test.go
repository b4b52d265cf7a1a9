package sqlstore

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// The same statement text run again while its rows are still open runs on a
// fresh statement; the open rows read on undisturbed.
func TestStmtCacheSameTextWhileRowsOpen(t *testing.T) {
	st := groupProbe(t)
	for i := range 3 {
		if _, err := st.exec(t.Context(), "INSERT INTO probe (who) VALUES ($1)", fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	conn, err := st.w.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const q = "SELECT who FROM probe WHERE id > $1 ORDER BY id"
	// Bounded: a statement shared by both would make them read each
	// other's rows, forever.
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	outer, err := conn.QueryContext(ctx, q, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for outer.Next() {
		var who string
		if err := outer.Scan(&who); err != nil {
			t.Fatal(err)
		}
		// The same text, on the same connection, while outer is open.
		var n int
		inner, err := conn.QueryContext(ctx, q, 1)
		if err != nil {
			t.Fatal(err)
		}
		for inner.Next() && n < 100 {
			n++
		}
		inner.Close()
		got = append(got, fmt.Sprintf("%s:%d", who, n))
		if len(got) > 3 {
			t.Fatalf("the open rows started over: %v", got)
		}
	}
	if err := outer.Err(); err != nil {
		t.Fatal(err)
	}
	outer.Close()
	if fmt.Sprint(got) != "[0:2 1:2 2:2]" {
		t.Errorf("rows %v, want [0:2 1:2 2:2]", got)
	}
}

// More statement texts than the cache keeps: the oldest are let go, and
// every statement still gives its right answer.
func TestStmtCacheBounded(t *testing.T) {
	st := groupProbe(t)
	conn, err := st.r.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for i := range 2*stmtCacheSize + 10 {
		var v int
		if err := conn.QueryRowContext(t.Context(), fmt.Sprintf("SELECT %d + $1", i), 1).Scan(&v); err != nil || v != i+1 {
			t.Fatalf("statement %d: %d, %v", i, v, err)
		}
	}
	if err := conn.Raw(func(dc any) error {
		if n := len(dc.(*stmtCacheConn).stmts); n > stmtCacheSize {
			return fmt.Errorf("%d statements kept, bound %d", n, stmtCacheSize)
		}
		return nil
	}); err != nil {
		t.Error(err)
	}
}
