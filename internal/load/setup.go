package load

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pforte/pforte/internal/account"
	"github.com/pforte/pforte/internal/password"
	"github.com/pforte/pforte/internal/proofing"
	"github.com/pforte/pforte/internal/registry"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// Accounts give persons a password the way a person gets one (package
// account).
type Accounts interface {
	CheckNew(p store.Person, pw string) []password.Reason
	SetInitialPassword(ctx context.Context, id store.PersonID, initial string) (time.Time, error)
	Login(ctx context.Context, in account.Login, kind string) (account.LoginResult, error)
	ChangePassword(ctx context.Context, tok session.Token, sess store.Session, current, next, clientIP string) error
}

// Sessions ends the sessions the preparation started (package session).
type Sessions interface {
	End(ctx context.Context, tok session.Token) error
}

// Persons finds persons of the register (the store).
type Persons interface {
	PersonByKVNR(ctx context.Context, kvnr string) (store.Person, error)
}

// FirstPersons returns the first n persons of the generated CSV as stored.
func FirstPersons(ctx context.Context, st Persons, csv []byte, n int) ([]store.Person, error) {
	r, err := registry.NewReader(bytes.NewReader(csv), registry.ReaderOptions{})
	if err != nil {
		return nil, err
	}
	var out []store.Person
	for len(out) < n {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("load setup: only %d persons for %d accounts", len(out), n)
		}
		if err != nil {
			continue
		}
		p, err := st.PersonByKVNR(ctx, row.KVNR)
		if err != nil {
			return nil, fmt.Errorf("load setup: person %d: %w", len(out)+1, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// Password returns a random password the policy accepts for every
// one of persons.
func Password(accounts Accounts, persons []store.Person) (string, error) {
	for range 10 {
		pw := "Last " + strings.ToLower(rand.Text())
		ok := true
		for _, p := range persons {
			if len(accounts.CheckNew(p, pw)) > 0 {
				ok = false
				break
			}
		}
		if ok {
			return pw, nil
		}
	}
	return "", errors.New("load setup: no random password passed the policy for every account")
}

// Prepare gives each person pw the way a person gets one: an initial
// password (as from a letter), the first login with it, and the change to
// pw. It runs as many persons at once as there are CPUs.
func Prepare(ctx context.Context, a Accounts, sessions Sessions, persons []store.Person, pw string) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, runtime.GOMAXPROCS(0))
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(persons) || ctx.Err() != nil {
					return
				}
				if err := prepare(ctx, a, sessions, persons[i], pw); err != nil {
					errs <- fmt.Errorf("load setup: account %d: %w", i+1, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	return ctx.Err()
}

func prepare(ctx context.Context, a Accounts, sessions Sessions, p store.Person, pw string) error {
	initial, err := proofing.NewInitialPassword()
	if err != nil {
		return err
	}
	if _, err := a.SetInitialPassword(ctx, p.ID, initial); err != nil {
		return err
	}
	res, err := a.Login(ctx, account.Login{KVNR: p.KVNR, Password: initial, ClientIP: "127.0.0.1",
		UserAgent: "pforte-load-setup"}, session.KindApp)
	if err != nil {
		return fmt.Errorf("first login: %w", err)
	}
	if err := a.ChangePassword(ctx, res.Token, res.Session, initial, pw, "127.0.0.1"); err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	return sessions.End(ctx, res.Token)
}
