package notice_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/notice"
	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/testdb"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// channel records deliveries and fails or defers while told to.
type channel struct {
	mu        sync.Mutex
	got       []notice.Delivery
	fail      error
	deferTill time.Time
}

func (c *channel) Deliver(_ context.Context, d notice.Delivery) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail != nil {
		return c.fail
	}
	if !c.deferTill.IsZero() {
		return &notice.DeferredError{Until: c.deferTill, Reason: "budget"}
	}
	c.got = append(c.got, d)
	return nil
}

type fixture struct {
	st     store.Store
	clk    *clock
	maker  *notice.Maker
	svc    *notice.Service
	ch     *channel
	person store.Person
}

func newFixture(t *testing.T, st store.Store) *fixture {
	t.Helper()
	clk := &clock{t: time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)}
	p := store.Person{KVNR: "X110411675", FamilyName: "Müller", GivenNames: "Jürgen", BirthDate: "1970-03-14",
		Street: "Hauptstraße", HouseNumber: "1", PostalCode: "10115", City: "Berlin", Relation: store.RelationMember,
		Digest: []byte("d"), UpdatedAt: clk.now()}
	if _, err := st.UpsertPersons(t.Context(), []store.Person{p}); err != nil {
		t.Fatal(err)
	}
	p, err := st.PersonByKVNR(t.Context(), p.KVNR)
	if err != nil {
		t.Fatal(err)
	}
	k, err := seal.GenerateKey("t1")
	if err != nil {
		t.Fatal(err)
	}
	ring, err := seal.NewKeyring(k)
	if err != nil {
		t.Fatal(err)
	}
	ch := &channel{}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := notice.New(st, ring, []notice.Channel{ch}, clk.now, notice.Config{Batch: 2}, logger)
	return &fixture{st: st, clk: clk, maker: notice.NewMaker(ring, clk.now, svc.Kick), svc: svc, ch: ch, person: p}
}

func (f *fixture) queue(t *testing.T, kind notice.Kind, d notice.Details) store.Notice {
	t.Helper()
	n, err := f.maker.Make(f.person.ID, kind, d)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.st.QueueNotice(t.Context(), n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDeliverOpensAndSends(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		old := []string{"Jürgen Müller", "Alte Gasse 1", "04109 Leipzig"}
		a := f.queue(t, notice.AddressChanged, notice.Details{To: old})
		b := f.queue(t, notice.DeviceBound, notice.Details{Device: "Pixel 8"})
		c := f.queue(t, notice.PINLocked, notice.Details{Device: "Pixel 8"})
		res, err := f.svc.Deliver(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if res != (notice.Result{Sent: 3}) {
			t.Errorf("result %+v, want 3 sent (in batches of 2)", res)
		}
		got := map[string]notice.Delivery{}
		for _, d := range f.ch.got {
			got[d.ID] = d
		}
		if d := got[a.ID]; d.Kind != notice.AddressChanged || !cmp.Equal(d.Details.To, old) || d.Person.ID != f.person.ID ||
			!d.Details.At.Equal(f.clk.now()) {
			t.Errorf("address notice delivered as %+v", d)
		}
		if got[b.ID].Details.Device != "Pixel 8" || got[c.ID].Kind != notice.PINLocked {
			t.Errorf("device notices delivered as %+v, %+v", got[b.ID], got[c.ID])
		}
		for _, n := range []store.Notice{a, b, c} {
			if stored, err := f.st.NoticeByID(t.Context(), n.ID); err != nil || stored.Status != store.NoticeSent {
				t.Errorf("%s: %s (%v), want sent", n.Kind, stored.Status, err)
			}
		}
		if res, err := f.svc.Deliver(t.Context()); err != nil || res != (notice.Result{}) {
			t.Errorf("second pass = %+v, %v; want nothing", res, err)
		}
	})
}

// TestFailedDeliveryIsRetried: a notice whose channel fails stays queued and
// goes out on a later pass, after its backoff: never lost.
func TestFailedDeliveryIsRetried(t *testing.T) {
	f := newFixture(t, testdb.Open(t))
	n := f.queue(t, notice.PasswordChanged, notice.Details{})
	f.ch.fail = errors.New("printer on fire")
	if res, err := f.svc.Deliver(t.Context()); err != nil || res != (notice.Result{Failed: 1}) {
		t.Fatalf("failing pass = %+v, %v", res, err)
	}
	f.ch.fail = nil
	if res, err := f.svc.Deliver(t.Context()); err != nil || res != (notice.Result{}) {
		t.Errorf("pass during the backoff = %+v, %v; want nothing", res, err)
	}
	f.clk.advance(31 * time.Second)
	if res, err := f.svc.Deliver(t.Context()); err != nil || res != (notice.Result{Sent: 1}) {
		t.Fatalf("pass after the backoff = %+v, %v; want 1 sent", res, err)
	}
	stored, err := f.st.NoticeByID(t.Context(), n.ID)
	if err != nil || stored.Status != store.NoticeSent || stored.Attempts != 2 {
		t.Errorf("notice after the retry: %+v (%v)", stored, err)
	}
}

// TestDeferredDeliveryWaits: a channel's budget defers a notice to the time it
// names; it is neither dropped nor retried sooner.
func TestDeferredDeliveryWaits(t *testing.T) {
	f := newFixture(t, testdb.Open(t))
	f.queue(t, notice.BankChanged, notice.Details{})
	tomorrow := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	f.ch.deferTill = tomorrow
	if res, err := f.svc.Deliver(t.Context()); err != nil || res != (notice.Result{Deferred: 1}) {
		t.Fatalf("deferred pass = %+v, %v", res, err)
	}
	f.ch.deferTill = time.Time{}
	f.clk.advance(14 * time.Hour)
	if res, err := f.svc.Deliver(t.Context()); err != nil || res != (notice.Result{}) {
		t.Errorf("pass before the day is over = %+v, %v; want nothing", res, err)
	}
	f.clk.t = tomorrow
	if res, err := f.svc.Deliver(t.Context()); err != nil || res != (notice.Result{Sent: 1}) {
		t.Errorf("pass the next day = %+v, %v; want 1 sent", res, err)
	}
}

// TestRepeatsMerge: one kind, person, recipient and day is one notice, however
// often the change is repeated; another day or another recipient is another.
func TestRepeatsMerge(t *testing.T) {
	f := newFixture(t, testdb.Open(t))
	for range 10 {
		f.queue(t, notice.PasswordChanged, notice.Details{})
	}
	f.clk.advance(time.Second)
	f.queue(t, notice.AddressChanged, notice.Details{To: []string{"A", "Weg 1", "10115 Berlin"}})
	f.clk.advance(time.Second)
	f.queue(t, notice.AddressChanged, notice.Details{To: []string{"A", "Gasse 2", "04109 Leipzig"}})
	f.clk.advance(24 * time.Hour)
	f.queue(t, notice.PasswordChanged, notice.Details{})
	list, err := f.st.PersonNotices(t.Context(), f.person.ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	var counts []int
	for _, n := range list {
		counts = append(counts, n.Count)
	}
	// Newest first: the next day's password notice, the two address notices,
	// then the ten merged password changes.
	if diff := cmp.Diff([]int{1, 1, 1, 10}, counts); diff != "" {
		t.Errorf("notice counts (-want +got):\n%s", diff)
	}
	if _, err := f.svc.Deliver(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(f.ch.got) != 4 {
		t.Errorf("%d deliveries, want 4", len(f.ch.got))
	}
	for _, d := range f.ch.got {
		if d.Kind == notice.PasswordChanged && d.Count != 10 && d.Count != 1 {
			t.Errorf("password notice reports %d changes", d.Count)
		}
	}
}

func TestMakeRefusesUnknownKinds(t *testing.T) {
	f := newFixture(t, testdb.Open(t))
	if _, err := f.maker.Make(f.person.ID, "account.deleted", notice.Details{}); err == nil {
		t.Error("an unknown kind was made")
	}
	if _, err := f.maker.Make(0, notice.PasswordChanged, notice.Details{}); err == nil {
		t.Error("a notice without a person was made")
	}
}

// TestDeliveryInTheAccountLanguage: a notice speaks the language the person
// chose, German without a choice (or with one Pforte does not speak).
func TestDeliveryInTheAccountLanguage(t *testing.T) {
	for choice, want := range map[string]lang.Language{"": lang.German, "de": lang.German, "en": lang.English, "fr": lang.German} {
		f := newFixture(t, testdb.Open(t))
		if choice != "" {
			if _, err := f.st.UpdateAccount(t.Context(), f.person.ID, f.clk.now(), func(a *store.Account, _ bool) error {
				a.Language = choice
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		f.queue(t, notice.PasswordChanged, notice.Details{})
		if _, err := f.svc.Deliver(t.Context()); err != nil {
			t.Fatal(err)
		}
		if len(f.ch.got) != 1 || f.ch.got[0].Language != want {
			t.Errorf("choice %q: deliveries %+v, want one in %s", choice, f.ch.got, want)
		}
	}
}
