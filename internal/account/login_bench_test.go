package account_test

import (
	"io"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/account"
	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/password"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/testdb"
)

// BenchmarkPasswordLogin compares successful logins (the default argon2id
// parameters, SQLite in a temporary folder with synchronous=full) with the
// bare hashes they cost, one and two at a time; what a login adds to its
// hash is the difference. Each login of a pair is its own person's.
//
//	go test -run XXX -bench PasswordLogin -benchtime 60x -count 3 ./internal/account/
func BenchmarkPasswordLogin(b *testing.B) {
	ctx := b.Context()
	st := testdb.Open(b)
	h, err := password.NewHasher(password.Params{}, nil, 2)
	if err != nil {
		b.Fatal(err)
	}
	now := func() time.Time { return time.Now() }
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	sessions := session.NewManager(st, session.Config{}, now)
	svc := account.New(st, h, sessions, audit.New(st, audit.GenerateKey(), now, logger), testNotices(b, now), now, account.Config{}, logger)
	const pw = "Kastanienbaum im Herbstwind"
	var persons []store.Person
	for i, k := range []string{"X110411675", "T555558879"} {
		p := store.Person{KVNR: k, FamilyName: "Müller", GivenNames: "Jürgen", BirthDate: "1970-03-1" + strconv.Itoa(i),
			Street: "Hauptstraße", HouseNumber: "1", PostalCode: "10115", City: "Berlin", Relation: store.RelationMember,
			Digest: []byte("d"), UpdatedAt: time.Now()}
		if _, err := st.UpsertPersons(ctx, []store.Person{p}); err != nil {
			b.Fatal(err)
		}
		if p, err = st.PersonByKVNR(ctx, k); err != nil {
			b.Fatal(err)
		}
		if _, err := svc.SetInitialPassword(ctx, p.ID, initial); err != nil {
			b.Fatal(err)
		}
		res, err := svc.Login(ctx, account.Login{KVNR: k, Password: initial}, session.KindBrowser)
		if err != nil {
			b.Fatal(err)
		}
		if err := svc.ChangePassword(ctx, res.Token, res.Session, initial, pw, ""); err != nil {
			b.Fatal(err)
		}
		persons = append(persons, p)
	}
	acct, err := st.AccountByPerson(ctx, persons[0].ID)
	if err != nil {
		b.Fatal(err)
	}
	// each runs b.N calls of fn over c goroutines, goroutine i as person i.
	each := func(b *testing.B, c int, fn func(i int) error) {
		var wg sync.WaitGroup
		b.ResetTimer()
		for i := range c {
			wg.Go(func() {
				for range b.N / c {
					if err := fn(i); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
	}
	for _, c := range []int{1, 2} {
		b.Run("hash/"+strconv.Itoa(c), func(b *testing.B) {
			each(b, c, func(int) error {
				_, _, err := h.Verify(ctx, pw, acct.PasswordHash)
				return err
			})
		})
		b.Run("login/"+strconv.Itoa(c), func(b *testing.B) {
			each(b, c, func(i int) error {
				_, err := svc.Login(ctx, account.Login{KVNR: persons[i].KVNR, Password: pw}, session.KindBrowser)
				return err
			})
		})
	}
}
