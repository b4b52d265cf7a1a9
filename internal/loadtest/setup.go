package loadtest

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/pforte/pforte/appclient"
)

// PhoneKDF is the PIN key derivation of the load test's phones: the
// cheapest a server accepts by default, so that a run measures the server,
// not the phones.
var PhoneKDF = appclient.KDFParams{Alg: appclient.KDFArgon2id, Time: 1, Memory: appclient.MinKDFMemory, Threads: 1}

// NewPIN returns a random PIN a server accepts for a new binding.
func NewPIN() (string, error) {
	for range 100 {
		n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
		if err != nil {
			return "", err
		}
		pin := fmt.Sprintf("%06d", n.Int64())
		if pin != wrongPIN && appclient.CheckNewPIN(pin) == nil {
			return pin, nil
		}
	}
	return "", errors.New("loadtest: no acceptable PIN found")
}

// Binding is what binding one phone needs: the person, their password and the
// activation code of their letter.
type Binding struct {
	KVNR, Password, Code string
}

// BindPhones binds one phone per binding through the API at base (a node of
// the system being prepared), with pin, as many at once as there are CPUs,
// and returns the accounts with the phones' states.
func BindPhones(ctx context.Context, base string, client *http.Client, bindings []Binding, pin string) ([]Account, error) {
	out := make([]Account, len(bindings))
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, runtime.GOMAXPROCS(0))
	c := &appclient.Client{BaseURL: base, HTTP: client, UserAgent: "pforte-loadtest-setup"}
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(bindings) || ctx.Err() != nil {
					return
				}
				b := bindings[i]
				d, err := appclient.NewDevice(nil)
				if err == nil {
					d.KDF = PhoneKDF
					_, _, err = c.Bind(ctx, d, b.KVNR, b.Password, b.Code, pin, "Lasttest", "pforte loadtest")
				}
				var state []byte
				if err == nil {
					state, err = d.MarshalState()
				}
				if err != nil {
					errs <- fmt.Errorf("loadtest setup: bind a phone for account %d: %w", i+1, err)
					return
				}
				out[i] = Account{KVNR: b.KVNR, Device: json.RawMessage(state)}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	return out, ctx.Err()
}
