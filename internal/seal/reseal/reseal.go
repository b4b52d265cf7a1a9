// Package reseal owns the one-time upgrade that binds sealed fields to their
// place. Before it, a person's IBAN and an outbox payload were sealed with no
// context, so a ciphertext copied into another row opened there. Now every
// value is sealed for seal.Place(table, column, row); the values already
// stored are re-sealed by Run, which needs the data keys and so cannot be a
// SQL migration.
//
//	not done ──Run: every unbound IBAN and payload re-sealed for its place──▶ done (marked)
//	         ──a value opens neither bound nor unbound──▶ error naming the row, not done
//
// Run is idempotent: a value that already opens for its place is left alone,
// and once every row is bound the upgrade is marked done in the store, so
// later starts skip it with one read. It runs in batches of rows, each batch
// one transaction that locks its rows, so nodes starting at once, or a
// node serving while another runs it, never lose a write.
//
// It does not own the keys (cmd/pforte), the sealing format (package seal) or
// the rows' meaning (registry, profile).
package reseal

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/store"
)

// Name is the upgrade's name in the store.
const Name = "seal.bind-to-place.v1"

// defaultBatch is how many rows one transaction re-seals.
const defaultBatch = 500

// Store is what the upgrade needs of the store (store.Upgrades).
type Store interface {
	UpgradeDone(ctx context.Context, name string) (bool, error)
	MarkUpgradeDone(ctx context.Context, name string, at time.Time) error
	RewriteIBANs(ctx context.Context, after store.PersonID, limit int,
		fn func(id store.PersonID, kvnr string, iban store.Sealed) (store.Sealed, bool, error)) (store.PersonID, int, error)
	RewriteOutboxPayloads(ctx context.Context, after int64, limit int,
		fn func(e store.OutboxEvent) ([]byte, bool, error)) (int64, int, error)
}

// Rebinder re-seals a value for its place (seal.Keyring.Rebind).
type Rebinder interface {
	Rebind(s store.Sealed, place []byte) (store.Sealed, bool, error)
}

// Result says what Run did.
type Result struct {
	// AlreadyDone is true when the store had the upgrade marked done.
	AlreadyDone bool
	// IBANs and Payloads count the values re-sealed.
	IBANs, Payloads int
}

// Run re-seals every person's IBAN and every outbox payload that opens only
// without a context for its place, in batches of batch rows (0 means 500),
// then marks the upgrade done at now(). A value that opens neither for its
// place nor unbound stops it with an error naming the row (the person's
// Pforte id or the outbox event's id, never a KVNR); rows of earlier batches
// stay re-sealed and the next Run continues.
func Run(ctx context.Context, st Store, kr Rebinder, now func() time.Time, batch int) (Result, error) {
	var res Result
	if batch <= 0 {
		batch = defaultBatch
	}
	done, err := st.UpgradeDone(ctx, Name)
	if err != nil {
		return res, fmt.Errorf("reseal: %w", err)
	}
	if done {
		res.AlreadyDone = true
		return res, nil
	}
	for after := store.PersonID(0); ; {
		last, n, err := st.RewriteIBANs(ctx, after, batch, func(id store.PersonID, kvnr string, iban store.Sealed) (store.Sealed, bool, error) {
			next, changed, err := kr.Rebind(iban, seal.Place("persons", "iban", kvnr))
			if err != nil {
				return store.Sealed{}, false, fmt.Errorf("reseal: person %d: iban: %w", id, err)
			}
			return next, changed, nil
		})
		if err != nil {
			return res, err
		}
		res.IBANs += n
		if last == after {
			break
		}
		after = last
	}
	for after := int64(0); ; {
		last, n, err := st.RewriteOutboxPayloads(ctx, after, batch, func(e store.OutboxEvent) ([]byte, bool, error) {
			var sealed store.Sealed
			if err := json.Unmarshal(e.Payload, &sealed); err != nil {
				return nil, false, fmt.Errorf("reseal: outbox event %s: payload: %w", e.ID, err)
			}
			next, changed, err := kr.Rebind(sealed, seal.Place("outbox", "payload", e.ID))
			if err != nil {
				return nil, false, fmt.Errorf("reseal: outbox event %s: payload: %w", e.ID, err)
			}
			if !changed {
				return nil, false, nil
			}
			b, err := json.Marshal(next)
			if err != nil {
				return nil, false, fmt.Errorf("reseal: outbox event %s: %w", e.ID, err)
			}
			return b, true, nil
		})
		if err != nil {
			return res, err
		}
		res.Payloads += n
		if last == after {
			break
		}
		after = last
	}
	if err := st.MarkUpgradeDone(ctx, Name, now()); err != nil {
		return res, fmt.Errorf("reseal: %w", err)
	}
	return res, nil
}
