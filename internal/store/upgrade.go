package store

import (
	"context"
	"time"
)

// Upgrades is the contract for data upgrades that SQL migrations cannot make
// because they need keys the database does not hold (re-sealing values under
// a new binding). Each upgrade runs once per database, under its name, and
// rewrites rows in batches through an updater.
type Upgrades interface {
	// UpgradeDone reports whether the upgrade with the name was marked done.
	UpgradeDone(ctx context.Context, name string) (bool, error)
	// MarkUpgradeDone records the upgrade as done at at; marking it again
	// keeps the first time.
	MarkUpgradeDone(ctx context.Context, name string, at time.Time) error
	// RewriteIBANs calls fn, in one transaction that locks the rows, for up
	// to limit persons with ID > after that have an IBAN, in ID order, and
	// stores the IBAN fn returns for each where fn reports a change. Nothing
	// else of the person changes (neither Version nor UpdatedAt: the
	// plaintext stays the same). If fn fails nothing of the batch is written
	// and its error is returned. It returns the last ID it passed to fn (after
	// when there was none) and how many IBANs it rewrote. fn may run more than
	// once for a row.
	RewriteIBANs(ctx context.Context, after PersonID, limit int,
		fn func(id PersonID, kvnr string, iban Sealed) (Sealed, bool, error)) (last PersonID, rewritten int, err error)
	// RewriteOutboxPayloads does the same for the payloads of outbox events
	// with Seq > after, in Seq order, and returns the last Seq passed to fn.
	RewriteOutboxPayloads(ctx context.Context, after int64, limit int,
		fn func(e OutboxEvent) ([]byte, bool, error)) (last int64, rewritten int, err error)
}
