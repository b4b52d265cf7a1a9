package password

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"time"
)

// Bounds of Params, also applied to the parameters of stored hashes before
// any work is done with them.
const (
	minMemory  = 8 * 1024    // KiB: 8 MiB
	maxMemory  = 1024 * 1024 // KiB: 1 GiB
	minTime    = 1
	maxTime    = 10
	minThreads = 1
	maxThreads = 8
)

// MinPepperLen is the shortest pepper NewHasher accepts, in bytes.
const MinPepperLen = 32

// maxInputBytes is the longest password Hash accepts and Verify can match:
// a password of DefaultMaxLength runes that Check accepted is never longer.
const maxInputBytes = DefaultMaxLength * maxBytesPerRune

// Params are the argon2id parameters of new hashes. A zero field means its
// default.
type Params struct {
	Memory  uint32 // KiB, 8 MiB to 1 GiB; default 19456 (19 MiB)
	Time    uint32 // passes, 1 to 10; default 2
	Threads uint8  // lanes, 1 to 8; default 1
	KeyLen  uint32 // bytes, 16 to 64; default 32
	SaltLen uint32 // bytes, 16 to 64; default 16
}

// DefaultParams returns the default parameters: m=19456, t=2, p=1, a 32-byte
// key and a 16-byte salt.
func DefaultParams() Params {
	return Params{Memory: 19 * 1024, Time: 2, Threads: 1, KeyLen: 32, SaltLen: 16}
}

// withDefaults returns p with zero fields set to their defaults.
func (p Params) withDefaults() Params {
	d := DefaultParams()
	if p.Memory == 0 {
		p.Memory = d.Memory
	}
	if p.Time == 0 {
		p.Time = d.Time
	}
	if p.Threads == 0 {
		p.Threads = d.Threads
	}
	if p.KeyLen == 0 {
		p.KeyLen = d.KeyLen
	}
	if p.SaltLen == 0 {
		p.SaltLen = d.SaltLen
	}
	return p
}

// Validate reports every parameter outside its bounds at once; nil means the
// parameters are usable.
func (p Params) Validate() []error {
	p = p.withDefaults()
	var errs []error
	check := func(name string, v, lo, hi uint64) {
		if v < lo || v > hi {
			errs = append(errs, fmt.Errorf("password: params: %s %d is outside %d to %d", name, v, lo, hi))
		}
	}
	check("memory (KiB)", uint64(p.Memory), minMemory, maxMemory)
	check("time", uint64(p.Time), minTime, maxTime)
	check("threads", uint64(p.Threads), minThreads, maxThreads)
	check("key length", uint64(p.KeyLen), minKeyLen, maxKeyLen)
	check("salt length", uint64(p.SaltLen), 16, maxSaltLen)
	return errs
}

// Option changes how a Hasher waits for a free slot.
type Option func(*pool)

// WithQueueTimeout sets how long a caller waits for a slot before ErrBusy
// (default DefaultQueueTimeout). It must be positive.
func WithQueueTimeout(d time.Duration) Option {
	return func(p *pool) { p.timeout = d }
}

// WithMaxWaiting sets how many callers may wait for a slot at once (default
// DefaultMaxWaiting); one more gets ErrBusy at once. Zero means nobody
// waits.
func WithMaxWaiting(n int) Option {
	return func(p *pool) { p.maxWaiting = int64(n) }
}

// Hasher hashes and verifies passwords with argon2id, running at most a fixed
// number of hashes at once. It is safe for concurrent use. Build it with
// NewHasher. Its pepper never leaves it: String, Format and LogValue show
// only the parameters and whether a pepper is set.
type Hasher struct {
	params Params
	pepper []byte // nil when none is configured
	pool   *pool
	dummy  string // a real hash of a random secret, for DummyVerify
}

// NewHasher returns a Hasher for new hashes with params (zero fields take
// their defaults). pepper is nil or empty for none, else at least
// MinPepperLen bytes; the Hasher keeps a copy. maxConcurrent bounds the
// hashes running at once (0 means GOMAXPROCS), so hashing holds at most
// maxConcurrent × params.Memory KiB. NewHasher computes one hash (for
// DummyVerify) before it returns.
func NewHasher(params Params, pepper []byte, maxConcurrent int, opts ...Option) (*Hasher, error) {
	params = params.withDefaults()
	errs := params.Validate()
	if len(pepper) > 0 && len(pepper) < MinPepperLen {
		errs = append(errs, fmt.Errorf("password: pepper has %d bytes, want at least %d", len(pepper), MinPepperLen))
	}
	if maxConcurrent < 0 {
		errs = append(errs, fmt.Errorf("password: max concurrent hashes %d is negative", maxConcurrent))
	}
	if maxConcurrent <= 0 {
		maxConcurrent = runtime.GOMAXPROCS(0)
	}
	p := newPool(maxConcurrent, DefaultMaxWaiting, DefaultQueueTimeout)
	for _, o := range opts {
		o(p)
	}
	if p.timeout <= 0 {
		errs = append(errs, fmt.Errorf("password: queue timeout %v is not positive", p.timeout))
	}
	if p.maxWaiting < 0 {
		errs = append(errs, fmt.Errorf("password: max waiting %d is negative", p.maxWaiting))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	h := &Hasher{params: params, pool: p}
	if len(pepper) > 0 {
		h.pepper = append([]byte(nil), pepper...)
	}
	secret := make([]byte, 32)
	rand.Read(secret) // never fails; the runtime aborts if randomness is unavailable
	h.dummy = h.newHash(h.input(string(secret))).encode()
	return h, nil
}

// Params returns the parameters of new hashes.
func (h *Hasher) Params() Params { return h.params }

// Hash returns the PHC string of the normalised password with a new random
// salt and the Hasher's parameters (and pepper, if any). It returns ErrBusy
// when too many hashes run or wait, or the context's error if ctx ends
// while waiting.
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	if len(pw) > maxInputBytes {
		return "", fmt.Errorf("password: hash: password longer than %d bytes", maxInputBytes)
	}
	if err := h.pool.acquire(ctx); err != nil {
		return "", err
	}
	defer h.pool.release()
	return h.newHash(h.input(pw)).encode(), nil
}

// newHash computes a hash of input with a new salt, outside the pool.
func (h *Hasher) newHash(input []byte) phc {
	salt := make([]byte, h.params.SaltLen)
	rand.Read(salt) // never fails
	return phc{
		memory:  h.params.Memory,
		time:    h.params.Time,
		threads: h.params.Threads,
		salt:    salt,
		key:     h.pool.hash(input, salt, h.params.Time, h.params.Memory, h.params.Threads, h.params.KeyLen),
	}
}

// Verify reports whether pw matches the stored PHC string, and, when it
// does, whether the string was made with other parameters than the Hasher's
// so that the caller should store a new Hash. A stored string that is not an
// argon2id PHC string within the bounds of Params.Validate is an error
// wrapping ErrMalformedHash, returned before any hashing. It returns ErrBusy
// or the context's error like Hash. The comparison is in constant time.
func (h *Hasher) Verify(ctx context.Context, pw, stored string) (ok, needsRehash bool, err error) {
	v, err := h.Derive(ctx, pw, stored)
	if err != nil {
		return false, false, err
	}
	ok, needsRehash = v()
	return ok, needsRehash, nil
}

// A Verdict compares a derived key with the stored one, in constant time,
// and answers as Verify does. Calling it is checking the password: a caller
// that must not check (an attempt its limit refused) drops it uncalled.
type Verdict func() (ok, needsRehash bool)

// Derive does the hashing of Verify and returns the comparison still to be
// made, so that a caller can hash while it reserves the attempt and check
// only once the reservation holds. Its errors are Verify's.
func (h *Hasher) Derive(ctx context.Context, pw, stored string) (Verdict, error) {
	s, err := parsePHC(stored)
	if err != nil {
		return nil, err
	}
	tooLong := len(pw) > maxInputBytes
	if tooLong {
		pw = "" // no stored password is this long; do the same work and fail
	}
	input := h.input(pw)
	if err := h.pool.acquire(ctx); err != nil {
		return nil, err
	}
	key := h.pool.hash(input, s.salt, s.time, s.memory, s.threads, uint32(len(s.key)))
	h.pool.release()
	return func() (bool, bool) {
		ok := subtle.ConstantTimeCompare(key, s.key) == 1 && !tooLong
		return ok, ok && s.params() != h.params
	}, nil
}

// DummyVerify does the work of Verify against a real hash made when the
// Hasher was built, for a login whose account does not exist, so that it
// takes as long as a wrong password. Its error is ErrBusy or the context's
// error, exactly when Verify would have returned one; the caller treats it
// as it treats Verify's.
func (h *Hasher) DummyVerify(ctx context.Context, pw string) error {
	_, _, err := h.Verify(ctx, pw, h.dummy)
	return err
}

// input returns what argon2id hashes for pw: the normalised password, or,
// with a pepper, HMAC-SHA256(pepper, normalised password).
func (h *Hasher) input(pw string) []byte {
	n := Normalize(pw)
	if h.pepper == nil {
		return []byte(n)
	}
	mac := hmac.New(sha256.New, h.pepper)
	io.WriteString(mac, n)
	return mac.Sum(nil)
}

// String describes the Hasher without its pepper.
func (h *Hasher) String() string {
	pepper := "none"
	if h.pepper != nil {
		pepper = "REDACTED"
	}
	return fmt.Sprintf("password.Hasher{m=%d t=%d p=%d key=%d salt=%d pepper=%s}",
		h.params.Memory, h.params.Time, h.params.Threads, h.params.KeyLen, h.params.SaltLen, pepper)
}

// Format prints the same as String for every verb, so that no fmt verb
// reaches the pepper.
func (h *Hasher) Format(f fmt.State, _ rune) { io.WriteString(f, h.String()) }

// LogValue logs the parameters and whether a pepper is set, never the pepper.
func (h *Hasher) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Uint64("memory_kib", uint64(h.params.Memory)),
		slog.Uint64("time", uint64(h.params.Time)),
		slog.Uint64("threads", uint64(h.params.Threads)),
		slog.Bool("pepper", h.pepper != nil),
	)
}

// Admit lets a caller in before it does other work for a password check (a
// login reserves an attempt in the database before it hashes). At most as many
// callers are admitted as the pool can run and queue; the others get ErrBusy at
// once, before they cost anything else. Call the returned function when the
// work for the hasher is done (a login calls it after its hash, before its
// remaining writes); calls after the first do nothing.
func (h *Hasher) Admit() (func(), error) { return h.pool.admit() }
