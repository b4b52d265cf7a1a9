package loadtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/pforte/pforte/appclient"
)

// State is what `pforte loadtest setup` prepared: accounts with a chosen
// password and a bound phone, and register entries of persons without an
// account (for access requests). It holds secrets (the password, the PIN,
// the phones' keys): WriteState writes it with mode 0600.
type State struct {
	Password string    `json:"password"`
	PIN      string    `json:"pin"`
	Accounts []Account `json:"accounts"`
	Register []Entry   `json:"register"`
}

// Account is a person with a chosen password and a bound phone.
type Account struct {
	KVNR   string          `json:"kvnr"`
	Device json.RawMessage `json:"device"` // appclient state
}

// Entry is a person of the register without an account, as an access
// request names them.
type Entry struct {
	KVNR       string `json:"kvnr"`
	PostalCode string `json:"postal_code"`
	BirthDate  string `json:"birth_date"`
}

// WriteState writes s to path with mode 0600.
func WriteState(path string, s *State) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// ReadState reads a state file.
func ReadState(path string) (*State, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("loadtest: %w", err)
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("loadtest: %s: %w", path, err)
	}
	if s.Password == "" || appclient.CheckPINFormat(s.PIN) != nil {
		return nil, fmt.Errorf("loadtest: %s: no password or PIN", path)
	}
	return &s, nil
}

// account is an Account ready for flows.
type account struct {
	kvnr   string
	device *appclient.Device
	seed   []byte // the right PIN's key seed, derived once
}

func (s *State) accounts() ([]*account, error) {
	out := make([]*account, 0, len(s.Accounts))
	for _, a := range s.Accounts {
		d, err := appclient.LoadState(a.Device)
		if err != nil {
			return nil, fmt.Errorf("loadtest: account %s: %w", a.KVNR, err)
		}
		key, err := d.PINKey(s.PIN)
		if err != nil {
			return nil, fmt.Errorf("loadtest: account %s: %w", a.KVNR, err)
		}
		out = append(out, &account{kvnr: a.KVNR, device: d, seed: key.Seed()})
	}
	if len(out) == 0 {
		return nil, errors.New("loadtest: the state has no accounts")
	}
	return out, nil
}
