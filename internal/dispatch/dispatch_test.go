package dispatch_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/dispatch"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/letter"
	"github.com/pforte/pforte/internal/notice"
	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/testdb"
)

type voider struct{ voided []store.PersonID }

func (v *voider) VoidLetterCodes(_ context.Context, id store.PersonID) error {
	v.voided = append(v.voided, id)
	return nil
}

func setup(t *testing.T, cfg dispatch.Config) (*dispatch.Service, store.Store, store.Person) {
	t.Helper()
	return setupWith(t, cfg, nil)
}

func setupWith(t *testing.T, cfg dispatch.Config, sink dispatch.Sink) (*dispatch.Service, store.Store, store.Person) {
	t.Helper()
	now := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
	return setupAt(t, cfg, sink, func() time.Time { return now })
}

// setupAt is setupWith on the clock now.
func setupAt(t *testing.T, cfg dispatch.Config, sink dispatch.Sink, clock func() time.Time) (*dispatch.Service, store.Store, store.Person) {
	t.Helper()
	st := testdb.Open(t)
	now := clock()
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
	return dispatch.New(st, ring, r, audit.New(st, audit.GenerateKey(), time.Now, logger), sink, clock, cfg, logger), st, p
}

func TestQueueExportReturn(t *testing.T) {
	d, st, p := setup(t, dispatch.Config{})
	ctx := t.Context()
	exp := time.Date(2026, 12, 29, 0, 0, 0, 0, time.UTC)
	q, err := d.Queue(ctx, p, letter.KindPassword, "", dispatch.Secrets{InitialPassword: "ABCDEFGHJKLMNPQR",
		ActivationURL: "https://portal.example/app/activate#code"}, store.LetterCodes{}, exp, time.Time{}, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.DeliverNotice(ctx, passwordNotice("ntc_1", p)); err != nil {
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
		_, err := d.Queue(ctx, p, letter.KindActivation, "", dispatch.Secrets{ActivationURL: "https://portal.example/app/activate#c"}, store.LetterCodes{},
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
	// Notices count neither against the person's code-letter window nor
	// against the daily cap of code letters.
	if err := d.DeliverNotice(ctx, passwordNotice("ntc_1", p)); err != nil {
		t.Errorf("notice: %v", err)
	}
}

func passwordNotice(id string, p store.Person) notice.Delivery {
	return notice.Delivery{ID: id, Person: p, Kind: notice.PasswordChanged, Count: 1,
		Details: notice.Details{At: time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)}}
}

// TestNoticesHaveTheirOwnBudget: with the code letters' daily cap used up, every
// notice is still queued; notices over their own budget are deferred to the
// next day, never dropped; one notice delivered twice is one letter.
func TestNoticesHaveTheirOwnBudget(t *testing.T) {
	d, st, p := setup(t, dispatch.Config{PersonLimit: 100, DailyCap: 2, NoticeDailyCap: 5})
	ctx := t.Context()
	for i := range 3 {
		_, err := d.Queue(ctx, p, letter.KindActivation, "", dispatch.Secrets{ActivationURL: "https://portal.example/app/activate#c"}, store.LetterCodes{},
			time.Date(2026, 12, 29, 0, 0, 0, 0, time.UTC), time.Time{}, "")
		if i < 2 && err != nil || i == 2 && !errors.Is(err, dispatch.ErrDailyCap) {
			t.Fatalf("code letter %d: %v", i+1, err)
		}
	}
	for i := range 5 {
		if err := d.DeliverNotice(ctx, passwordNotice(fmt.Sprintf("ntc_%d", i), p)); err != nil {
			t.Fatalf("notice %d with the daily cap used up: %v", i+1, err)
		}
	}
	// The same notice again: no second letter, no budget used.
	if err := d.DeliverNotice(ctx, passwordNotice("ntc_0", p)); err != nil {
		t.Fatalf("notice delivered again: %v", err)
	}
	err := d.DeliverNotice(ctx, passwordNotice("ntc_5", p))
	var deferred *notice.DeferredError
	if !errors.As(err, &deferred) || !deferred.Until.Equal(time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("notice over its budget = %v, want deferred to the next day", err)
	}
	letters, err := st.PersonLetters(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	notices := 0
	for _, l := range letters {
		if l.Kind == "password_changed" {
			notices++
		}
	}
	if notices != 5 {
		t.Errorf("%d notice letters queued, want 5", notices)
	}
}

// TestNoticeToTheOldAddress: a notice with Details.To goes there, not to the
// registered address.
func TestNoticeToTheOldAddress(t *testing.T) {
	d, st, p := setup(t, dispatch.Config{})
	old := []string{"Dr. Jürgen Weiß", "Alte Gasse 1", "04109 Leipzig"}
	err := d.DeliverNotice(t.Context(), notice.Delivery{ID: "ntc_old", Person: p, Kind: notice.AddressChanged, Count: 1,
		Details: notice.Details{At: time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC), To: old}})
	if err != nil {
		t.Fatal(err)
	}
	letters, err := st.PersonLetters(t.Context(), p.ID)
	if err != nil || len(letters) != 1 {
		t.Fatalf("letters %v, %v", letters, err)
	}
	if got := letters[0].Address; got != strings.Join(old, "\n") {
		t.Errorf("notice addressed to %q, want the old address", got)
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
	q, err := d.Queue(t.Context(), p, letter.KindPassword, "", dispatch.Secrets{InitialPassword: "ABCDEFGHJKLMNPQR",
		ActivationURL: "https://portal.example/app/activate#code"}, store.LetterCodes{}, time.Date(2026, 12, 29, 0, 0, 0, 0, time.UTC), time.Time{}, "")
	if err != nil || !q.InReview || q.Letter.Status != store.LetterReview {
		t.Errorf("queue to an unverified address = %+v, %v", q, err)
	}
}

func TestSalutation(t *testing.T) {
	tests := []struct {
		p           store.Person
		german, eng string
	}{
		{store.Person{Salutation: "Frau", Title: "Dr.", GivenNames: "Anna Maria", FamilyName: "Weiß"}, "Guten Tag Frau Dr. Weiß,", "Dear Ms Dr Weiß,"},
		{store.Person{Salutation: "Herr", GivenNames: "Jürgen", FamilyName: "Müller-Lüdenscheidt"}, "Guten Tag Herr Müller-Lüdenscheidt,", "Dear Mr Müller-Lüdenscheidt,"},
		{store.Person{Salutation: "Herr", GivenNames: "Jürgen", FamilyName: "Müller"}, "Guten Tag Herr Müller,", "Dear Mr Müller,"},
		{store.Person{GivenNames: "Jürgen Karl", FamilyName: "Müller"}, "Guten Tag Jürgen Müller,", "Dear Jürgen Müller,"},
		{store.Person{Title: "Prof. Dr.", GivenNames: "Anna", FamilyName: "Groß"}, "Guten Tag Prof. Dr. Anna Groß,", "Dear Prof Dr Anna Groß,"},
		// A value the register does not give is no salutation.
		{store.Person{Salutation: "Divers", GivenNames: "Kim", FamilyName: "Öz"}, "Guten Tag Kim Öz,", "Dear Kim Öz,"},
	}
	for _, tt := range tests {
		if got := dispatch.Salutation(lang.German, tt.p); got != tt.german {
			t.Errorf("German Salutation(%+v) = %q, want %q", tt.p, got, tt.german)
		}
		if got := dispatch.Salutation(lang.English, tt.p); got != tt.eng {
			t.Errorf("English Salutation(%+v) = %q, want %q", tt.p, got, tt.eng)
		}
	}
}

// TestLongNamesStillGetTheirLetter: a register may hold names and streets
// longer than an address line (40 characters); the letter is queued and
// rendered with the name abbreviated the way the post accepts it, never
// refused.
func TestLongNamesStillGetTheirLetter(t *testing.T) {
	d, st, p := setup(t, dispatch.Config{})
	ctx := t.Context()
	p.Title, p.GivenNames, p.FamilyName = "Prof. Dr.", "Anna-Lena Maximiliane Sophie", "Müller-Lüdenscheidt von Hohenberg"
	p.Street, p.HouseNumber = "Oberbürgermeister-Hans-Schmidt-Straße", "123a"
	if _, err := st.UpsertPersons(ctx, []store.Person{p}); err != nil {
		t.Fatal(err)
	}
	lines := dispatch.AddressLines(p)
	// "A. M. S. Müller-Lüdenscheidt von Hohenberg" would be 42 characters.
	want := []string{"Müller-Lüdenscheidt von Hohenberg", "Oberbürgermeister-Hans-Schmidt-Str. 123a", "10115 Berlin"}
	for i, l := range lines {
		if n := len([]rune(l)); n > 40 {
			t.Errorf("line %d has %d characters: %q", i, n, l)
		}
	}
	if !slices.Equal(lines, want) {
		t.Errorf("lines %q, want like %q", lines, want)
	}
	if _, err := d.Queue(ctx, p, letter.KindPassword, "", dispatch.Secrets{InitialPassword: "ABCDEFGHJKLMNPQR",
		ActivationURL: "https://portal.example/app/activate#code"}, store.LetterCodes{}, time.Now().Add(24*time.Hour), time.Time{}, ""); err != nil {
		t.Fatalf("queue: %v", err)
	}
	var pdf, manifest bytes.Buffer
	if b, err := d.Export(ctx, &pdf, &manifest, 10); err != nil || b.Letters != 1 {
		t.Fatalf("export: %+v %v", b, err)
	}
	for _, c := range []struct{ title, given, family, want string }{
		{"Dr.", "Jürgen", "Weiß", "Dr. Jürgen Weiß"},
		{"", "Anna-Lena Maximiliane Sophie Charlotte", "Weiß", "Anna-Lena M. S. C. Weiß"},
		{"", "X", strings.Repeat("Lang", 12), strings.Repeat("Lang", 10)},
	} {
		q := p
		q.Title, q.GivenNames, q.FamilyName = c.title, c.given, c.family
		if got := dispatch.AddressLines(q)[0]; got != c.want {
			t.Errorf("name line of %q %q %q = %q, want %q", c.title, c.given, c.family, got, c.want)
		}
	}
}

// TestQueueStoresCodesWithTheLetter: the codes Queue is given are stored with
// the letter's id as their data; when their account write fails, Queue
// fails and stores neither the letter nor the codes.
func TestQueueStoresCodesWithTheLetter(t *testing.T) {
	d, st, p := setup(t, dispatch.Config{})
	ctx := t.Context()
	exp := time.Date(2026, 12, 29, 0, 0, 0, 0, time.UTC)
	code := func(digest string) store.OneTime {
		return store.OneTime{Kind: "activation", Digest: []byte(digest), Subject: "person:x", CreatedAt: exp.AddDate(0, -1, 0), ExpiresAt: exp}
	}
	sec := dispatch.Secrets{ActivationURL: "https://portal.example/app/activate#c"}
	boom := errors.New("boom")
	if _, err := d.Queue(ctx, p, letter.KindActivation, "", sec, store.LetterCodes{Put: []store.OneTime{code("d1")},
		Account: func(*store.Account, bool) error { return boom }}, exp, time.Time{}, ""); !errors.Is(err, boom) {
		t.Fatalf("Queue with a failing account write = %v, want boom", err)
	}
	if ls, err := st.PersonLetters(ctx, p.ID); err != nil || len(ls) != 0 {
		t.Errorf("letters after a failed Queue = %d, %v; want none", len(ls), err)
	}
	if _, err := st.OneTimeByDigest(ctx, "activation", []byte("d1"), exp.AddDate(0, 0, -1)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("code of a failed Queue = %v, want ErrNotFound", err)
	}
	q, err := d.Queue(ctx, p, letter.KindActivation, "", sec, store.LetterCodes{Put: []store.OneTime{code("d1")}}, exp, time.Time{}, "")
	if err != nil {
		t.Fatal(err)
	}
	v, err := st.OneTimeByDigest(ctx, "activation", []byte("d1"), exp.AddDate(0, 0, -1))
	if err != nil || string(v.Data) != q.Letter.ID {
		t.Errorf("code = %q, %v; want data %q", v.Data, err, q.Letter.ID)
	}
}
