// Package registry owns the insured master data (Versichertenstamm) as it enters
// Pforte: the validation rules of its fields (KVNR, IBAN, partial birth dates,
// postal codes, insurance relations), the CSV exchange format of the core insurance
// system (docs/registry-csv.md), the streaming import into the store, and a
// generator of synthetic insured persons for demos, tests and load tests.
//
// It does not own persistence (package store and its backends), encryption at rest
// (the Sealer it is given), the audit trail (the Auditor it is given), or the
// matching of eID results against the master data (package proofing, which uses
// BirthDate.Matches).
//
// An import streams:
//
//	CSV bytes ─▶ Reader ─▶ Row ─▶ store.Person ─▶ batch ─▶ PersonWriter.UpsertPersons
//	              │                 (IBAN sealed,
//	              ▼                  Digest over the plaintext)
//	        *RowError (line, reason; the import goes on with the next row)
//
// and ends with one audit event "registry.import" holding only counts. Memory
// stays flat whatever the file size: one record buffer, two batches.
//
// Nothing this package returns as an error or logs contains a full KVNR, a name, a
// birth date or an IBAN; MaskKVNR shortens a KVNR for messages.
package registry
