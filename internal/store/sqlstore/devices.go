package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/pforte/pforte/internal/store"
)

// devices implements store.Devices and store.DeviceProofs.
type devices struct{ *db }

var _ store.Devices = (*devices)(nil)

const deviceColumns = `id, person_id, device_key, pin_key, kdf, level, name, model, bound_at, bound_ip,
	pin_failures, pin_locked_at, removed_at, updated_at`

func scanDevice(row rowScanner) (store.Device, error) {
	var (
		d                               store.Device
		id                              string
		bound, locked, removed, updated int64
	)
	err := row.Scan(&id, &d.PersonID, &d.DeviceKey, &d.PINKey, &d.KDF, &d.Level, &d.Name, &d.Model, &bound, &d.BoundIP,
		&d.PINFailures, &locked, &removed, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Device{}, store.ErrNotFound
	}
	if err != nil {
		return store.Device{}, fmt.Errorf("sqlstore: scan device: %w", err)
	}
	d.ID = store.DeviceID(id)
	d.BoundAt, d.PINLockedAt, d.RemovedAt, d.UpdatedAt = fromMicros(bound), fromMicros(locked), fromMicros(removed), fromMicros(updated)
	return d, nil
}

// AddDevice implements store.Devices.
func (s *devices) AddDevice(ctx context.Context, d store.Device, check func(bound int) error, notices ...store.Notice) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var pid int64
		err := tx.QueryRowContext(ctx, "SELECT id FROM persons WHERE id = $1"+s.forUpdate(), int64(d.PersonID)).Scan(&pid)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("sqlstore: lock person: %w", err)
		}
		var bound int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM devices WHERE person_id = $1 AND removed_at = 0",
			int64(d.PersonID)).Scan(&bound); err != nil {
			return fmt.Errorf("sqlstore: count devices: %w", err)
		}
		if err := check(bound); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO devices (`+deviceColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
			string(d.ID), int64(d.PersonID), nonNil(d.DeviceKey), nonNil(d.PINKey), d.KDF, d.Level, d.Name, d.Model,
			micros(d.BoundAt), d.BoundIP, d.PINFailures, micros(d.PINLockedAt), micros(d.RemovedAt), micros(d.BoundAt))
		if isUniqueViolation(err) {
			return store.ErrConflict
		}
		if err != nil {
			return fmt.Errorf("sqlstore: add device: %w", err)
		}
		return queueNotices(ctx, tx, notices)
	})
}

// rowQuerier is a database or a transaction.
type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// deviceByID reads one binding through q.
func deviceByID(ctx context.Context, q rowQuerier, id store.DeviceID) (store.Device, error) {
	return scanDevice(q.QueryRowContext(ctx, "SELECT "+deviceColumns+" FROM devices WHERE id = $1", string(id)))
}

// DeviceByID implements store.Devices.
func (s *devices) DeviceByID(ctx context.Context, id store.DeviceID) (store.Device, error) {
	return deviceByID(ctx, s.r, id)
}

// PersonDevices implements store.Devices.
func (s *devices) PersonDevices(ctx context.Context, id store.PersonID) ([]store.Device, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+deviceColumns+
		" FROM devices WHERE person_id = $1 AND removed_at = 0 ORDER BY bound_at, id", int64(id))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: person devices: %w", err)
	}
	defer rows.Close()
	var out []store.Device
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: person devices: %w", err)
	}
	return out, nil
}

// UpdateDevice implements store.Devices.
func (s *devices) UpdateDevice(ctx context.Context, id store.DeviceID, fn func(d *store.Device) error, notices ...store.Notice) (store.Device, error) {
	var out store.Device
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if out, err = s.updateDevice(ctx, tx, id, fn); err != nil {
			return err
		}
		return queueNotices(ctx, tx, notices)
	})
	if err != nil {
		return store.Device{}, err
	}
	return out, nil
}

// updateDevice is UpdateDevice inside tx.
func (s *devices) updateDevice(ctx context.Context, tx *sql.Tx, id store.DeviceID, fn func(d *store.Device) error) (store.Device, error) {
	cur, err := scanDevice(tx.QueryRowContext(ctx, "SELECT "+deviceColumns+" FROM devices WHERE id = $1"+s.forUpdate(), string(id)))
	if err != nil {
		return store.Device{}, err
	}
	next := cur
	if err := fn(&next); err != nil {
		return store.Device{}, err
	}
	next.ID, next.PersonID = cur.ID, cur.PersonID
	_, err = tx.ExecContext(ctx, `UPDATE devices SET device_key = $1, pin_key = $2, kdf = $3, level = $4, name = $5,
		model = $6, pin_failures = $7, pin_locked_at = $8, removed_at = $9, updated_at = $10 WHERE id = $11`,
		nonNil(next.DeviceKey), nonNil(next.PINKey), next.KDF, next.Level, next.Name, next.Model, next.PINFailures,
		micros(next.PINLockedAt), micros(next.RemovedAt), micros(next.UpdatedAt), string(id))
	if err != nil {
		return store.Device{}, fmt.Errorf("sqlstore: update device: %w", err)
	}
	return next, nil
}
