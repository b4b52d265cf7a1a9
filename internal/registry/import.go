package registry

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/store"
)

// PersonWriter stores batches of insured persons.
type PersonWriter interface {
	// UpsertPersons inserts or updates the batch, keyed by KVNR, in one
	// transaction, leaving rows whose Digest is unchanged untouched, and counts
	// what it did. The KVNRs of a batch are unique. It must not keep batch
	// after it returns: the importer reuses it. (store.Persons keeps this
	// contract.)
	UpsertPersons(ctx context.Context, batch []store.Person) (store.UpsertResult, error)
}

// Sealer encrypts sensitive fields at rest and fingerprints content.
type Sealer interface {
	// SealFor encrypts plaintext under the current key and binds it to aad,
	// the value's place (seal.Place): it opens only for the same aad. Sealing
	// the same plaintext twice gives different ciphertexts.
	SealFor(plaintext, aad []byte) (store.Sealed, error)
	// Fingerprint returns a keyed, deterministic digest of data: equal data
	// gives equal fingerprints, and nobody without the key can compute or
	// invert them.
	Fingerprint(data []byte) []byte
}

// Auditor writes events to the audit trail.
type Auditor interface {
	// Record appends e to the audit trail; when it returns nil the event is
	// stored.
	Record(ctx context.Context, e AuditEvent) error
}

// AuditEvent is an audit trail entry as the registry describes it. Details hold
// no personal data.
type AuditEvent struct {
	Event   string // e.g. "registry.import"
	Subject string
	Details map[string]any
}

// EventImport is the audit event written once per import.
const EventImport = "registry.import"

// Summary counts what an import did. Read = Inserted + Updated + Unchanged +
// Skipped once an import completes.
type Summary struct {
	Read      int64 // records read after the header, rejected ones included
	Inserted  int64
	Updated   int64
	Unchanged int64
	Skipped   int64 // records rejected with a *RowError
}

// ImportOptions configure one import. The zero value is a strict import with
// default batch size and no callbacks.
type ImportOptions struct {
	// BatchSize is the number of rows per UpsertPersons call; default 1000.
	BatchSize int
	// AllowInvalidKVNR accepts KVNRs with a wrong check digit; see
	// ReaderOptions.
	AllowInvalidKVNR bool
	// OnRowError, if set, is called for every rejected record.
	OnRowError func(*RowError)
	// OnProgress, if set, is called with the number of records read so far
	// every ProgressEvery records, and with the final count at the end.
	OnProgress func(rowsRead int64)
	// ProgressEvery defaults to 10,000.
	ProgressEvery int64
}

const (
	defaultBatchSize     = 1000
	defaultProgressEvery = 10_000
)

// Importer loads the registry CSV format into the store.
type Importer struct {
	persons PersonWriter
	sealer  Sealer
	audit   Auditor
	now     func() time.Time
}

// NewImporter returns an Importer writing to persons, sealing IBANs with sealer
// and recording each import with audit. now is the clock; nil means time.Now.
func NewImporter(persons PersonWriter, sealer Sealer, audit Auditor, now func() time.Time) *Importer {
	if now == nil {
		now = time.Now
	}
	return &Importer{persons: persons, sealer: sealer, audit: audit, now: now}
}

// Import reads the registry CSV format from r and upserts its rows in batches.
// Rejected records are reported to opts.OnRowError and skipped; they do not stop
// the import. A bad header, a read error, a failing PersonWriter or Sealer, or
// the end of ctx stops it; rows of batches already written stay written. Either
// way one EventImport is recorded, with the counts so far.
//
// Rows are read and converted in the calling goroutine (which also runs the
// callbacks) while a second goroutine writes the previous batch, so at most two
// batches are held in memory.
func (im *Importer) Import(ctx context.Context, r io.Reader, opts ImportOptions) (Summary, error) {
	start := im.now()
	sum, err := im.run(ctx, r, opts, start)
	status := "completed"
	if err != nil {
		status = "failed"
	}
	ev := AuditEvent{
		Event:   EventImport,
		Subject: "registry",
		Details: map[string]any{
			"status":             status,
			"read":               sum.Read,
			"inserted":           sum.Inserted,
			"updated":            sum.Updated,
			"unchanged":          sum.Unchanged,
			"skipped":            sum.Skipped,
			"allow_invalid_kvnr": opts.AllowInvalidKVNR,
			"duration_ms":        im.now().Sub(start).Milliseconds(),
		},
	}
	// A failed or cancelled import may have written batches: record it anyway.
	if aerr := im.audit.Record(context.WithoutCancel(ctx), ev); aerr != nil {
		return sum, errors.Join(err, fmt.Errorf("registry: import: audit: %w", aerr))
	}
	return sum, err
}

func (im *Importer) run(ctx context.Context, r io.Reader, opts ImportOptions, now time.Time) (Summary, error) {
	var sum Summary
	batchSize := opts.BatchSize
	if batchSize <= 0 {
		batchSize = defaultBatchSize
	}
	every := opts.ProgressEvery
	if every <= 0 {
		every = defaultProgressEvery
	}
	rd, err := NewReader(r, ReaderOptions{
		AllowInvalidKVNR: opts.AllowInvalidKVNR,
		Now:              func() time.Time { return now },
	})
	if err != nil {
		return sum, err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// Two batch buffers travel between this goroutine (filling) and the
	// writer (upserting), so reading overlaps with writing.
	free := make(chan []store.Person, 2)
	free <- make([]store.Person, 0, batchSize)
	free <- make([]store.Person, 0, batchSize)
	work := make(chan []store.Person)
	done := make(chan struct{})
	var (
		written store.UpsertResult // owned by the writer until done is closed
		werr    error
	)
	go func() {
		defer close(done)
		for b := range work {
			if werr == nil {
				res, err := im.persons.UpsertPersons(ctx, b)
				if err != nil {
					werr = fmt.Errorf("registry: import: upsert: %w", err)
					cancel()
				} else {
					written.Inserted += res.Inserted
					written.Updated += res.Updated
					written.Unchanged += res.Unchanged
				}
			}
			clear(b) // drop references to the batch's strings and ciphertexts
			free <- b[:0]
		}
	}()

	var (
		batch   = <-free
		inBatch = make(map[string]struct{}, batchSize)
		enc     = make([]byte, 0, 1024)
		rerr    error
		rowErr  *RowError
	)
	flush := func() bool {
		if len(batch) == 0 {
			return true
		}
		select {
		case work <- batch:
		case <-ctx.Done():
			return false
		}
		clear(inBatch)
		select {
		case batch = <-free:
			return true
		case <-ctx.Done():
			batch = nil
			return false
		}
	}

	for rerr == nil {
		if err := ctx.Err(); err != nil {
			rerr = err
			break
		}
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		switch {
		case errors.As(err, &rowErr):
			sum.Read++
			sum.Skipped++
			if opts.OnRowError != nil {
				opts.OnRowError(rowErr)
			}
		case err != nil:
			rerr = err
			continue
		default:
			sum.Read++
			if _, dup := inBatch[row.KVNR]; dup || len(batch) == batchSize {
				// A KVNR appears at most once per batch; the later row
				// goes into the next batch and wins.
				if !flush() {
					continue
				}
			}
			var p store.Person
			if enc, err = im.person(&p, &row, enc, now); err != nil {
				rerr = err
				continue
			}
			batch = append(batch, p)
			inBatch[row.KVNR] = struct{}{}
		}
		if opts.OnProgress != nil && sum.Read%every == 0 {
			opts.OnProgress(sum.Read)
		}
	}
	if rerr == nil {
		flush()
	}
	close(work)
	<-done
	sum.Inserted = int64(written.Inserted)
	sum.Updated = int64(written.Updated)
	sum.Unchanged = int64(written.Unchanged)
	if opts.OnProgress != nil && (sum.Read == 0 || sum.Read%every != 0) {
		opts.OnProgress(sum.Read)
	}
	switch {
	case werr != nil:
		return sum, werr
	case rerr != nil:
		return sum, rerr
	}
	return sum, ctx.Err()
}

// person converts row into p: the IBAN sealed, the Digest over every plaintext
// field. enc is scratch space for the digest input; the grown buffer is
// returned.
func (im *Importer) person(p *store.Person, row *Row, enc []byte, now time.Time) ([]byte, error) {
	*p = store.Person{
		KVNR:              row.KVNR,
		FamilyName:        row.FamilyName,
		GivenNames:        row.GivenNames,
		Title:             row.Title,
		BirthName:         row.BirthName,
		BirthDate:         row.BirthDate.String(),
		Street:            row.Street,
		HouseNumber:       row.HouseNumber,
		PostalCode:        row.PostalCode,
		City:              row.City,
		AddressVerifiedAt: row.AddressVerifiedAt,
		AddressVerifiedBy: row.AddressVerifiedBy,
		Relation:          row.Relation,
		MemberKVNR:        row.MemberKVNR,
		Salutation:        row.Salutation,
		UpdatedAt:         now,
	}
	enc = appendDigestInput(enc[:0], p, row.IBAN)
	if row.IBAN != "" {
		// Bound to the person's row by the KVNR, the natural key the row
		// is upserted by: a copy in another person's row does not open.
		s, err := im.sealer.SealFor([]byte(row.IBAN), seal.Place("persons", "iban", row.KVNR))
		if err != nil {
			return enc, fmt.Errorf("registry: import: seal iban: %w", err)
		}
		p.IBAN = s
	}
	p.Digest = im.sealer.Fingerprint(enc)
	return enc, nil
}

// digestVersion starts the digest input so a future change of the encoding
// changes every digest (and so updates every row once) instead of colliding.
const digestVersion = "pforte.registry.person.v1"

// appendDigestInput appends the canonical encoding of every imported plaintext
// field of p, and the plaintext IBAN, to b: each field as its length (uvarint)
// followed by its bytes, in a fixed order, so different persons never encode
// alike. The verification time is encoded in UTC with nanoseconds.
func appendDigestInput(b []byte, p *store.Person, iban string) []byte {
	b = appendField(b, digestVersion)
	b = appendField(b, p.KVNR)
	b = appendField(b, p.FamilyName)
	b = appendField(b, p.GivenNames)
	b = appendField(b, p.Title)
	b = appendField(b, p.BirthName)
	b = appendField(b, p.BirthDate)
	b = appendField(b, p.Street)
	b = appendField(b, p.HouseNumber)
	b = appendField(b, p.PostalCode)
	b = appendField(b, p.City)
	if p.AddressVerifiedAt.IsZero() {
		b = appendField(b, "")
	} else {
		var t [len(time.RFC3339Nano) + 8]byte
		ts := p.AddressVerifiedAt.UTC().AppendFormat(t[:0], time.RFC3339Nano)
		b = binary.AppendUvarint(b, uint64(len(ts)))
		b = append(b, ts...)
	}
	b = appendField(b, p.AddressVerifiedBy)
	b = appendField(b, iban)
	b = appendField(b, string(p.Relation))
	b = appendField(b, p.MemberKVNR)
	// Appended only when set, so that persons without one keep the digest
	// they had before the column existed.
	if p.Salutation != "" {
		b = appendField(b, p.Salutation)
	}
	return b
}

func appendField(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}
