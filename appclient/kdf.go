package appclient

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// KDFArgon2id is the only key derivation function of protocol version 1.
const KDFArgon2id = "argon2id"

// Bounds that Validate enforces. A server may demand more of new bindings, but
// never accepts less.
const (
	MinKDFTime    = 1
	MaxKDFTime    = 10
	MinKDFMemory  = 8 * 1024    // KiB (8 MiB)
	MaxKDFMemory  = 1024 * 1024 // KiB (1 GiB)
	MinKDFThreads = 1
	MaxKDFThreads = 8
)

// ErrKDF is returned, wrapped, for KDF parameters that are malformed or out of
// bounds.
var ErrKDF = errors.New("invalid kdf parameters")

// KDFParams are the Argon2id parameters that turn the PIN and the device secret
// into the PIN key's seed. They are recorded with a binding, so a server can
// raise them for new bindings without breaking old ones.
//
// Their JSON form is canonical: exactly the keys alg, t, m, p in this order, no
// whitespace, integers in plain decimal, for example
// {"alg":"argon2id","t":3,"m":65536,"p":1}. Because the binding signature
// covers these bytes, a server accepts no other spelling (ParseKDF).
type KDFParams struct {
	Alg     string // always KDFArgon2id
	Time    uint32 // t: passes over memory
	Memory  uint32 // m: memory in KiB
	Threads uint8  // p: parallelism (lanes)
}

// DefaultKDF returns the parameters the app uses for new bindings:
// Argon2id, t=3, m=65536 KiB (64 MiB), p=1.
func DefaultKDF() KDFParams {
	return KDFParams{Alg: KDFArgon2id, Time: 3, Memory: 64 * 1024, Threads: 1}
}

// Validate reports whether k names Argon2id with t in 1–10, m in 8 MiB–1 GiB
// (given in KiB) and p in 1–8.
func (k KDFParams) Validate() error {
	var problems []string
	if k.Alg != KDFArgon2id {
		problems = append(problems, fmt.Sprintf("alg %q is not %q", k.Alg, KDFArgon2id))
	}
	if k.Time < MinKDFTime || k.Time > MaxKDFTime {
		problems = append(problems, fmt.Sprintf("t=%d is outside %d–%d", k.Time, MinKDFTime, MaxKDFTime))
	}
	if k.Memory < MinKDFMemory || k.Memory > MaxKDFMemory {
		problems = append(problems, fmt.Sprintf("m=%d KiB is outside %d–%d KiB", k.Memory, MinKDFMemory, MaxKDFMemory))
	}
	if k.Threads < MinKDFThreads || k.Threads > MaxKDFThreads {
		problems = append(problems, fmt.Sprintf("p=%d is outside %d–%d", k.Threads, MinKDFThreads, MaxKDFThreads))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrKDF, strings.Join(problems, "; "))
	}
	return nil
}

// MarshalJSON returns the canonical form. It refuses parameters that do not
// pass Validate, so no invalid parameters ever leave the app.
func (k KDFParams) MarshalJSON() ([]byte, error) {
	if err := k.Validate(); err != nil {
		return nil, err
	}
	return k.canonical(), nil
}

func (k KDFParams) canonical() []byte {
	alg, _ := json.Marshal(k.Alg) // a string always marshals
	b := []byte(`{"alg":`)
	b = append(b, alg...)
	b = append(b, `,"t":`...)
	b = strconv.AppendUint(b, uint64(k.Time), 10)
	b = append(b, `,"m":`...)
	b = strconv.AppendUint(b, uint64(k.Memory), 10)
	b = append(b, `,"p":`...)
	b = strconv.AppendUint(b, uint64(k.Threads), 10)
	return append(b, '}')
}

// UnmarshalJSON accepts the canonical form with any JSON whitespace around its
// tokens (as in an indented state file): the same keys in the same order, each
// once, and valid parameters. For bytes received on the wire use ParseKDF,
// which allows no whitespace either.
func (k *KDFParams) UnmarshalJSON(b []byte) error {
	var raw struct {
		Alg *string `json:"alg"`
		T   *uint32 `json:"t"`
		M   *uint32 `json:"m"`
		P   *uint8  `json:"p"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return fmt.Errorf("%w: %v", ErrKDF, err)
	}
	if raw.Alg == nil || raw.T == nil || raw.M == nil || raw.P == nil {
		return fmt.Errorf("%w: want exactly the keys alg, t, m, p", ErrKDF)
	}
	got := KDFParams{Alg: *raw.Alg, Time: *raw.T, Memory: *raw.M, Threads: *raw.P}
	if err := got.Validate(); err != nil {
		return err
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, b); err != nil {
		return fmt.Errorf("%w: %v", ErrKDF, err)
	}
	if !bytes.Equal(compact.Bytes(), got.canonical()) {
		return fmt.Errorf("%w: not in canonical form %s", ErrKDF, got.canonical())
	}
	*k = got
	return nil
}

// ParseKDF parses KDF parameters as received on the wire. It accepts only the
// canonical form, byte for byte, so the bytes a signature covers and the
// parameters the server records cannot differ.
func ParseKDF(b []byte) (KDFParams, error) {
	var k KDFParams
	if err := k.UnmarshalJSON(b); err != nil {
		return KDFParams{}, err
	}
	if !bytes.Equal(b, k.canonical()) {
		return KDFParams{}, fmt.Errorf("%w: not in canonical form %s", ErrKDF, k.canonical())
	}
	return k, nil
}

// PIN errors. The PIN never reaches the server, so checking it is the app's
// duty.
var (
	ErrPINFormat  = errors.New("pin: want exactly 6 digits")
	ErrTrivialPIN = errors.New("pin: too easy to guess")
)

// PINLength is the number of digits of a Freigabe-PIN.
const PINLength = 6

// CheckPINFormat reports whether pin is exactly 6 ASCII digits.
func CheckPINFormat(pin string) error {
	if len(pin) != PINLength {
		return ErrPINFormat
	}
	for i := range len(pin) {
		if pin[i] < '0' || pin[i] > '9' {
			return ErrPINFormat
		}
	}
	return nil
}

// CheckNewPIN reports whether pin may be chosen as a new Freigabe-PIN: 6 ASCII
// digits, not all the same digit (111111), and not a run going up or down by
// one with 9 and 0 adjacent (123456, 654321, 789012, 210987). The app calls it
// when the person sets or changes the PIN; it may refuse more (a birth date).
func CheckNewPIN(pin string) error {
	if err := CheckPINFormat(pin); err != nil {
		return err
	}
	same, up, down := true, true, true
	for i := 1; i < len(pin); i++ {
		d := (int(pin[i]) - int(pin[i-1]) + 10) % 10
		same = same && d == 0
		up = up && d == 1
		down = down && d == 9
	}
	if same || up || down {
		return ErrTrivialPIN
	}
	return nil
}

// DerivePINKey derives the PIN key: its Ed25519 seed is Argon2id (version 0x13,
// no secret key, no associated data) of password = the PIN's 6 ASCII digits and
// salt = the 32-byte device secret, with the parameters kdf, 32 bytes long.
func DerivePINKey(pin string, secret []byte, kdf KDFParams) (ed25519.PrivateKey, error) {
	if err := CheckPINFormat(pin); err != nil {
		return nil, err
	}
	if len(secret) != SecretSize {
		return nil, fmt.Errorf("derive pin key: secret is %d bytes, want %d", len(secret), SecretSize)
	}
	if err := kdf.Validate(); err != nil {
		return nil, fmt.Errorf("derive pin key: %w", err)
	}
	seed := argon2.IDKey([]byte(pin), secret, kdf.Time, kdf.Memory, kdf.Threads, PINSeedSize)
	return ed25519.NewKeyFromSeed(seed), nil
}
