package loadtest

import (
	"maps"
	"sync"
)

// Tally is what the clients know of one thing (a person's wrong passwords, a
// phone's wrong PINs, a person's letters, an approval).
type Tally struct {
	// Confirmed is how many the server confirmed: it answered, and the
	// answer says the thing happened (a 401 for a counted wrong password, a
	// 202 for a letter request, a 204 for an approval or its status read
	// back after a cut-off answer).
	Confirmed int `json:"confirmed"`
	// CutOff is how many were sent and got no answer that says what
	// happened (the connection broke, or the proxy answered 502 or 504):
	// each may or may not have happened.
	CutOff int `json:"cut_off"`
}

// Ledger records, per key, what the clients know. Its methods are safe for
// concurrent use.
type Ledger struct {
	mu sync.Mutex
	// PasswordFailures by KVNR, PINFailures by device id, Letters by KVNR,
	// Approvals by approval id.
	passwordFailures, pinFailures, letters, approvals map[string]Tally
}

// NewLedger returns an empty ledger.
func NewLedger() *Ledger {
	return &Ledger{passwordFailures: map[string]Tally{}, pinFailures: map[string]Tally{},
		letters: map[string]Tally{}, approvals: map[string]Tally{}}
}

// Kinds of what a ledger counts.
const (
	KindPasswordFailure = "password-failure"
	KindPINFailure      = "pin-failure"
	KindLetter          = "letter"
	KindApproval        = "approval"
)

func (l *Ledger) table(kind string) map[string]Tally {
	switch kind {
	case KindPasswordFailure:
		return l.passwordFailures
	case KindPINFailure:
		return l.pinFailures
	case KindLetter:
		return l.letters
	case KindApproval:
		return l.approvals
	}
	panic("loadtest: unknown ledger kind " + kind)
}

func (l *Ledger) add(kind, key string, confirmed, cutOff int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.table(kind)
	x := t[key]
	x.Confirmed += confirmed
	x.CutOff += cutOff
	t[key] = x
}

// Entries returns a copy of the tallies of kind.
func (l *Ledger) Entries(kind string) map[string]Tally {
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps.Clone(l.table(kind))
}

// Check is the verdict on one kind: Held are the keys whose stored count
// matches what the clients know, Lost those with fewer, Doubled those with
// more.
type Check struct {
	Kind    string `json:"kind"`
	Held    int    `json:"held"`
	Lost    int    `json:"lost"`
	Doubled int    `json:"doubled"`
	// CutOff counts the keys with a cut-off request: held within the
	// bound Confirmed ≤ stored ≤ Confirmed+CutOff rather than exactly.
	CutOff int      `json:"cut_off"`
	Bad    []string `json:"bad,omitempty"` // the lost and doubled keys with both counts
}

// Verify compares the stored counts of kind (stored[key]) with the ledger: a
// key holds when Confirmed ≤ stored ≤ Confirmed+CutOff. Keys the ledger
// does not know must be absent or zero in stored.
func (l *Ledger) Verify(kind string, stored map[string]int) Check {
	c := Check{Kind: kind}
	entries := l.Entries(kind)
	for key, t := range entries {
		n := stored[key]
		if t.CutOff > 0 {
			c.CutOff++
		}
		switch {
		case n < t.Confirmed:
			c.Lost++
			c.Bad = append(c.Bad, describe(key, n, t))
		case n > t.Confirmed+t.CutOff:
			c.Doubled++
			c.Bad = append(c.Bad, describe(key, n, t))
		default:
			c.Held++
		}
	}
	for key, n := range stored {
		if _, ok := entries[key]; !ok && n > 0 {
			c.Doubled++
			c.Bad = append(c.Bad, describe(key, n, Tally{}))
		}
	}
	return c
}

func describe(key string, stored int, t Tally) string {
	return key + ": stored " + itoa(stored) + ", confirmed " + itoa(t.Confirmed) + ", cut off " + itoa(t.CutOff)
}
