package dispatch_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/dispatch"
	"github.com/pforte/pforte/internal/letter"
	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/sqlstore"
	"github.com/pforte/pforte/internal/store/sqlstore/sqltest"
)

type voider struct{ voided []store.PersonID }

func (v *voider) VoidLetterCodes(_ context.Context, id store.PersonID) error {
	v.voided = append(v.voided, id)
	return nil
}

func setup(t *testing.T, cfg dispatch.Config) (*dispatch.Service, *sqlstore.Store, store.Person) {
	t.Helper()
	st := sqltest.SQLite(t)
	now := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
	p := store.Person{KVNR: "X110411675", FamilyName: "Weiß", GivenNames: "Jürgen", Title: "Dr.", BirthDate: "1970",
		Street: "Hauptstraße", HouseNumber: "12a", PostalCode: "10115", City: "Berlin", Relation: store.RelationMember,
		AddressVerifiedAt: now.AddDate(0, -2, 0), AddressVerifiedBy: "melderegister", Digest: []byte("d"), UpdatedAt: now}
	if _, err := st.UpsertPersons(t.Context(), []store.Person{p}); err != nil {
		t.Fatal(err)
	}
	p, _ = st.PersonByKVNR(t.Context(), p.KVNR)
	k, _ := seal.GenerateKey("t1")
	ring, _ := seal.NewKeyring(k)
	r, err := letter.NewRenderer(letter.Sender{Name: "Beispiel-Kasse", Street: "Hauptstraße 1", PostalCity: "10115 Berlin",
		Phone: "0800 123 456", Web: "portal.example"})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	return dispatch.New(st, ring, r, audit.New(st, audit.GenerateKey(), time.Now, logger), nil, func() time.Time { return now }, cfg, logger), st, p
}

func TestQueueExportReturn(t *testing.T) {
	d, st, p := setup(t, dispatch.Config{})
	ctx := t.Context()
	exp := time.Date(2026, 12, 29, 0, 0, 0, 0, time.UTC)
	q, err := d.Queue(ctx, p, letter.KindPassword, dispatch.Secrets{InitialPassword: "ABCDEFGHJKLMNPQR",
		ActivationURL: "https://portal.example/app/activate#code"}, exp, time.Time{}, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.PasswordChanged(ctx, p); err != nil {
		t.Fatal(err)
	}
	var pdf, manifest bytes.Buffer
	b, err := d.Export(ctx, &pdf, &manifest, 100)
	if err != nil {
		t.Fatal(err)
	}
	if b.Letters != 2 || b.Pages < 2 || !bytes.HasPrefix(pdf.Bytes(), []byte("%PDF-")) {
		t.Fatalf("batch %+v, pdf %q…", b, pdf.Bytes()[:min(8, pdf.Len())])
	}
	rows, err := csv.NewReader(&manifest).ReadAll()
	if err != nil || len(rows) != 3 {
		t.Fatalf("manifest rows %d, %v", len(rows), err)
	}
	l, _ := st.LetterByID(ctx, q.Letter.ID)
	if l.Status != store.LetterHandedOver || !l.Secrets.IsZero() || l.BatchID != b.ID {
		t.Errorf("after export: %+v", l)
	}
	if again, err := d.Export(ctx, &pdf, &manifest, 100); err != nil || again.Letters != 0 {
		t.Errorf("second export = %+v, %v", again, err)
	}
	v := &voider{}
	if err := d.Returned(ctx, q.Letter.ID, v); err != nil {
		t.Fatal(err)
	}
	if l, _ := st.LetterByID(ctx, q.Letter.ID); l.Status != store.LetterReturned || len(v.voided) != 1 || v.voided[0] != p.ID {
		t.Errorf("after return: %s, voided %v", l.Status, v.voided)
	}
	if err := d.Returned(ctx, q.Letter.ID, v); !errors.Is(err, store.ErrConflict) {
		t.Errorf("second return = %v, want ErrConflict", err)
	}
	if err := d.Returned(ctx, "L-unknown", v); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown letter = %v, want ErrNotFound", err)
	}
}

func TestLimits(t *testing.T) {
	d, _, p := setup(t, dispatch.Config{PersonLimit: 2, DailyCap: 3})
	ctx := t.Context()
	queue := func() error {
		_, err := d.Queue(ctx, p, letter.KindActivation, dispatch.Secrets{ActivationURL: "https://portal.example/app/activate#c"},
			time.Date(2026, 12, 29, 0, 0, 0, 0, time.UTC), time.Time{}, "")
		return err
	}
	for i := range 2 {
		if err := queue(); err != nil {
			t.Fatalf("letter %d: %v", i+1, err)
		}
	}
	if err := queue(); !errors.Is(err, dispatch.ErrLimit) {
		t.Errorf("third code letter = %v, want ErrLimit", err)
	}
	// Notices do not count against the person's code-letter window, but
	// against the daily cap (3): one more fits, then none.
	if err := d.PasswordChanged(ctx, p); err != nil {
		t.Errorf("notice: %v", err)
	}
	if err := d.PasswordChanged(ctx, p); !errors.Is(err, dispatch.ErrLimit) {
		t.Errorf("notice over the daily cap = %v, want ErrLimit", err)
	}
}

func TestUnverifiedAddressGoesToReview(t *testing.T) {
	d, st, p := setup(t, dispatch.Config{})
	if _, err := st.UpdatePerson(t.Context(), p.ID, func(q *store.Person) error {
		q.AddressVerifiedAt, q.AddressVerifiedBy = time.Time{}, ""
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	p, _ = st.PersonByID(t.Context(), p.ID)
	q, err := d.Queue(t.Context(), p, letter.KindPassword, dispatch.Secrets{InitialPassword: "ABCDEFGHJKLMNPQR",
		ActivationURL: "https://portal.example/app/activate#code"}, time.Date(2026, 12, 29, 0, 0, 0, 0, time.UTC), time.Time{}, "")
	if err != nil || !q.InReview || q.Letter.Status != store.LetterReview {
		t.Errorf("queue to an unverified address = %+v, %v", q, err)
	}
}
