package dispatch_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/dispatch"
	"github.com/pforte/pforte/internal/letter"
	"github.com/pforte/pforte/internal/store"
)

// sink counts the letters it received.
type sink struct {
	mu  sync.Mutex
	ids []string
}

func (s *sink) Deliver(_ context.Context, id string, _ []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ids = append(s.ids, id)
	return nil
}

// inReview queues a password letter to p after forgetting when p's address
// was verified: the letter waits for staff.
func inReview(t *testing.T, d *dispatch.Service, st store.Store, p store.Person, expires time.Time) store.Letter {
	t.Helper()
	if _, err := st.UpdatePerson(t.Context(), p.ID, func(q *store.Person) error {
		q.AddressVerifiedAt, q.AddressVerifiedBy = time.Time{}, ""
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	p, err := st.PersonByID(t.Context(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	q, err := d.Queue(t.Context(), p, letter.KindPassword, "", dispatch.Secrets{InitialPassword: "ABCDEFGHJKLMNPQR",
		ActivationURL: "https://portal.example/app/activate#code"}, store.LetterCodes{}, expires, time.Time{}, "")
	if err != nil || !q.InReview {
		t.Fatalf("queue to an unverified address = %+v, %v", q, err)
	}
	return q.Letter
}

func status(t *testing.T, st store.Store, id string) store.LetterStatus {
	t.Helper()
	l, err := st.LetterByID(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return l.Status
}

func TestReviewRelease(t *testing.T) {
	out := &sink{}
	d, st, p := setupWith(t, dispatch.Config{}, out)
	l := inReview(t, d, st, p, time.Date(2026, 12, 29, 0, 0, 0, 0, time.UTC))
	if len(out.ids) != 0 {
		t.Fatalf("a letter in review went to the sink: %v", out.ids)
	}
	waiting, err := d.InReview(t.Context(), 10)
	if err != nil || len(waiting) != 1 || waiting[0].Letter.ID != l.ID || waiting[0].Person.KVNR != p.KVNR {
		t.Fatalf("InReview = %+v, %v", waiting, err)
	}
	for _, tc := range []struct{ by, reason string }{{"", "Melderegister geprüft"}, {"mmuster", ""}, {"mmuster", "  "}} {
		if err := d.Release(t.Context(), l.ID, tc.by, tc.reason); !errors.Is(err, dispatch.ErrNoReason) {
			t.Errorf("release by %q for %q = %v, want ErrNoReason", tc.by, tc.reason, err)
		}
	}
	if got := status(t, st, l.ID); got != store.LetterReview {
		t.Fatalf("a refused decision moved the letter to %s", got)
	}
	if err := d.Release(t.Context(), l.ID, "mmuster", "Anschrift mit dem Melderegister abgeglichen"); err != nil {
		t.Fatal(err)
	}
	if got := status(t, st, l.ID); got != store.LetterQueued || len(out.ids) != 1 || out.ids[0] != l.ID {
		t.Errorf("after the release: status %s, sink %v", got, out.ids)
	}
	if err := d.Release(t.Context(), l.ID, "mmuster", "noch einmal"); !errors.Is(err, dispatch.ErrNotInReview) {
		t.Errorf("releasing twice = %v, want ErrNotInReview", err)
	}
	v := &voider{}
	if err := d.Reject(t.Context(), l.ID, "mmuster", "zu spät", v); !errors.Is(err, dispatch.ErrNotInReview) || len(v.voided) != 0 {
		t.Errorf("rejecting a released letter = %v, voided %v", err, v.voided)
	}
	var pdf, csv bytes.Buffer
	if b, err := d.Export(t.Context(), &pdf, &csv, 10); err != nil || b.Letters != 1 {
		t.Errorf("export after the release = %+v, %v", b, err)
	}
}

func TestReviewReject(t *testing.T) {
	out := &sink{}
	d, st, p := setupWith(t, dispatch.Config{}, out)
	l := inReview(t, d, st, p, time.Date(2026, 12, 29, 0, 0, 0, 0, time.UTC))
	v := &voider{}
	if err := d.Reject(t.Context(), l.ID, "mmuster", "Anschrift laut Rückläufer veraltet", v); err != nil {
		t.Fatal(err)
	}
	if got := status(t, st, l.ID); got != store.LetterRejected || len(v.voided) != 1 || v.voided[0] != p.ID {
		t.Errorf("after the rejection: status %s, voided %v", got, v.voided)
	}
	if err := d.Release(t.Context(), l.ID, "mmuster", "doch"); !errors.Is(err, dispatch.ErrNotInReview) {
		t.Errorf("releasing a rejected letter = %v, want ErrNotInReview", err)
	}
	var pdf, csv bytes.Buffer
	if b, err := d.Export(t.Context(), &pdf, &csv, 10); err != nil || b.Letters != 0 || len(out.ids) != 0 {
		t.Errorf("a rejected letter was printed: %+v, %v, sink %v", b, err, out.ids)
	}
	if err := d.Reject(t.Context(), "L20261129-unknown", "mmuster", "gibt es nicht", v); !errors.Is(err, dispatch.ErrNotInReview) {
		t.Errorf("rejecting an unknown letter = %v", err)
	}
}

// TestReviewExpired: a letter whose codes expired while it waited is not
// printed; staff reject it.
func TestReviewExpired(t *testing.T) {
	now := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
	d, st, p := setupAt(t, dispatch.Config{}, nil, func() time.Time { return now })
	l := inReview(t, d, st, p, time.Date(2026, 12, 29, 0, 0, 0, 0, time.UTC))
	now = time.Date(2026, 12, 29, 0, 0, 0, 0, time.UTC) // the codes' end
	if err := d.Release(t.Context(), l.ID, "mmuster", "geprüft"); !errors.Is(err, dispatch.ErrExpired) {
		t.Errorf("releasing an expired letter = %v, want ErrExpired", err)
	}
	if got := status(t, st, l.ID); got != store.LetterReview {
		t.Errorf("status %s, want review", got)
	}
}

// TestReviewDecidedOnce: of a release and a rejection at the same moment,
// exactly one wins.
func TestReviewDecidedOnce(t *testing.T) {
	d, st, p := setup(t, dispatch.Config{})
	l := inReview(t, d, st, p, time.Date(2026, 12, 29, 0, 0, 0, 0, time.UTC))
	v := &voider{}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Go(func() { errs[0] = d.Release(t.Context(), l.ID, "a", "geprüft") })
	wg.Go(func() { errs[1] = d.Reject(t.Context(), l.ID, "b", "nicht geprüft", v) })
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, dispatch.ErrNotInReview):
			t.Errorf("decision = %v", err)
		}
	}
	if won != 1 {
		t.Errorf("%d decisions won (%v), want exactly 1", won, errs)
	}
	if got := status(t, st, l.ID); (errs[0] == nil) != (got == store.LetterQueued) || (errs[1] == nil) != (got == store.LetterRejected) {
		t.Errorf("status %s after %v", got, errs)
	}
}
