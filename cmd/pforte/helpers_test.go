package main

import (
	"io"
	"log/slog"
	"time"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/store/sqlstore"
)

func auditLogFor(st *sqlstore.Store) *audit.Log {
	return audit.New(st, time.Now, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func auditEvent(i int) audit.Event {
	return audit.Event{Actor: "system", Event: "test.event", Subject: "node", Details: map[string]any{"n": i}}
}
