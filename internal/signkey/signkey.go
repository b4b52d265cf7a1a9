// Package signkey owns the keys that sign Pforte's tokens (ID tokens, JWT access
// tokens): it creates ES256 keys (ECDSA P-256), rotates them on a fixed timeline,
// keeps the private halves sealed in the store, and hands out the key that signs
// now and the set of public keys relying parties verify with.
//
// It does not own the tokens themselves, the JWKS endpoint (package oidc serves
// what KeySet and JWKS return), the sealing keys (package seal), or scheduling:
// cmd/pforte calls Ensure at start and then periodically, well within Overlap
// (every few minutes), on every node.
//
// # Timeline
//
// Every key goes through the same phases. A key is published (in KeySet) from
// its creation, signs from ActivateAt until RetireAt, and stays published until
// DeleteAfter = RetireAt + TokenMaxAge, so every token it signed can be verified
// until that token has expired. Keys follow each other without gap or overlap:
// the next key's ActivateAt is the current key's RetireAt, and it is created
// Overlap before that (by the first Ensure from then on, so up to one Ensure
// interval later), so relying parties that cache the key set have fetched it
// before the first token it signs reaches them.
//
//	           created   ActivateAt                   RetireAt              DeleteAfter
//	key n      ├─Overlap─┼═════════ Lifetime ═════════┼──── TokenMaxAge ────┤
//	key n+1                                 ├─Overlap─┼═════════ Lifetime ═════════┼── …
//	                                        created   ActivateAt
//
//	  ─── published, does not sign      ═══ published and signs
//
// At any instant exactly one key signs. Ensure adds a key when no key will be
// signing Overlap from now; the new key starts where the chain of signing keys
// ends, or at once when none signs now (the first start, or after every node was
// down past the end of the chain: then it cannot be published ahead). Each key
// is added under the store's rotation lock, so any number of nodes running
// Ensure at once add it exactly once.
//
// # Storage
//
// The private key is stored as PKCS #8 DER sealed with the caller's Sealer,
// bound to the key id (a sealed key moved to another row does not open); the
// public key is stored as SubjectPublicKeyInfo DER and checked against the
// private key when that is opened. Opened keys are kept in memory by id.
// Signing keys are never re-sealed: they are deleted within Overlap + Lifetime +
// TokenMaxAge of their creation, so a retired data key must stay in the keyring
// that long after it stopped being the current one.
// Private keys never appear in output: Key's String, Format and LogValue print
// only the id.
package signkey

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pforte/pforte/internal/store"
)

// ErrNoKey reports that no key signs now: Ensure has not run yet, or not for
// longer than a key's Lifetime.
var ErrNoKey = errors.New("signkey: no key signs now")

// Config sets the timeline. Zero fields take the defaults.
type Config struct {
	// Lifetime is how long a key signs. Default 30 days; 1 hour to 1 year.
	Lifetime time.Duration
	// Overlap is how long a new key is published before it starts to sign, so
	// that relying parties caching the key set fetch it in time. Default 1
	// day; shorter than Lifetime.
	Overlap time.Duration
	// TokenMaxAge is the longest lifetime of any token a key signs; a retired
	// key stays published this long. Default 24 hours.
	TokenMaxAge time.Duration
}

func (c Config) withDefaults() Config {
	if c.Lifetime <= 0 {
		c.Lifetime = 30 * 24 * time.Hour
	}
	if c.Overlap <= 0 {
		c.Overlap = 24 * time.Hour
	}
	if c.TokenMaxAge <= 0 {
		c.TokenMaxAge = 24 * time.Hour
	}
	return c
}

// Validate reports every problem.
func (c Config) Validate() []error {
	var errs []error
	for name, d := range map[string]time.Duration{"lifetime": c.Lifetime, "overlap": c.Overlap, "token_max_age": c.TokenMaxAge} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("signkey.%s: %v is negative", name, d))
		}
	}
	c = c.withDefaults()
	if c.Lifetime < time.Hour || c.Lifetime > 366*24*time.Hour {
		errs = append(errs, fmt.Errorf("signkey.lifetime: %v is not between 1 hour and 1 year", c.Lifetime))
	}
	if c.Overlap >= c.Lifetime {
		errs = append(errs, fmt.Errorf("signkey.overlap: %v is not shorter than the lifetime %v", c.Overlap, c.Lifetime))
	}
	return errs
}

// Store is what the manager needs of the store.
type Store interface {
	SigningKeys(ctx context.Context) ([]store.SigningKey, error)
	DeleteSigningKeysBefore(ctx context.Context, t time.Time) (int64, error)
	RotateSigningKeys(ctx context.Context, now time.Time, fn func(current []store.SigningKey) (*store.SigningKey, error)) error
}

// Sealer encrypts at rest (package seal).
type Sealer interface {
	SealFor(plaintext, aad []byte) (store.Sealed, error)
	OpenFor(s store.Sealed, aad []byte) ([]byte, error)
}

// Manager creates, rotates and hands out signing keys. It is safe for
// concurrent use.
type Manager struct {
	store  Store
	sealer Sealer
	now    func() time.Time
	cfg    Config

	mu       sync.Mutex
	cache    map[string]cached // by key id
	listed   []store.SigningKey
	listedAt time.Time // when listed was read; zero: read again
}

// cached is a key parsed from its stored form; priv is nil until it was needed.
type cached struct {
	public []byte // the stored SPKI DER it was parsed from
	pub    *ecdsa.PublicKey
	priv   *ecdsa.PrivateKey
}

// New returns a manager. Zero Config fields take the defaults; cmd/pforte
// validates the Config before.
func New(st Store, sealer Sealer, now func() time.Time, cfg Config) *Manager {
	return &Manager{store: st, sealer: sealer, now: now, cfg: cfg.withDefaults(), cache: make(map[string]cached)}
}

// Ensure adds the next key when it is due (see the package comment) and
// deletes the keys past DeleteAfter. Run it at start and periodically.
func (m *Manager) Ensure(ctx context.Context) error {
	now := m.clock()
	defer m.forget()
	err := m.store.RotateSigningKeys(ctx, now, func(current []store.SigningKey) (*store.SigningKey, error) {
		start, due := m.next(now, current)
		if !due {
			return nil, nil
		}
		return m.generate(now, start)
	})
	if err != nil {
		return fmt.Errorf("signkey: rotate: %w", err)
	}
	if _, err := m.store.DeleteSigningKeysBefore(ctx, now); err != nil {
		return fmt.Errorf("signkey: delete old keys: %w", err)
	}
	return nil
}

// next reports whether a key must be added at now and when it starts signing:
// due when no key signs at now+Overlap; it starts where the chain of keys
// signing from now on without a gap ends (now itself if none signs now).
func (m *Manager) next(now time.Time, keys []store.SigningKey) (start time.Time, due bool) {
	horizon := now.Add(m.cfg.Overlap)
	for _, k := range keys {
		if signsAt(k, horizon) {
			return time.Time{}, false
		}
	}
	start = now
	for {
		end := start
		for _, k := range keys {
			if signsAt(k, start) && k.RetireAt.After(end) {
				end = k.RetireAt
			}
		}
		if end.Equal(start) {
			return start, true
		}
		start = end
	}
}

// signsAt reports whether k signs at t: ActivateAt ≤ t < RetireAt.
func signsAt(k store.SigningKey, t time.Time) bool {
	return !k.ActivateAt.After(t) && t.Before(k.RetireAt)
}

// generate creates a key that signs from start for one Lifetime.
func (m *Manager) generate(now, start time.Time) (*store.SigningKey, error) {
	var raw [16]byte
	rand.Read(raw[:]) // never fails; the runtime aborts if randomness is unavailable
	id := base64.RawURLEncoding.EncodeToString(raw[:])
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("signkey: generate: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("signkey: generate: %w", err)
	}
	sealed, err := m.sealer.SealFor(der, sealContext(id))
	clear(der)
	if err != nil {
		return nil, fmt.Errorf("signkey: seal key %s: %w", id, err)
	}
	public, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("signkey: generate: %w", err)
	}
	retire := start.Add(m.cfg.Lifetime)
	return &store.SigningKey{
		ID:          id,
		Algorithm:   string(jose.ES256),
		Private:     sealed,
		Public:      public,
		CreatedAt:   now,
		ActivateAt:  start,
		RetireAt:    retire,
		DeleteAfter: retire.Add(m.cfg.TokenMaxAge),
	}, nil
}

// sealContext binds a sealed private key to its key id.
func sealContext(id string) []byte { return []byte("signkey:" + id) }

// SigningKey returns the key that signs now: of the keys with ActivateAt ≤ now <
// RetireAt the newest (there is one unless keys were added by hand). ErrNoKey
// if none signs now.
func (m *Manager) SigningKey(ctx context.Context) (Key, error) {
	now := m.clock()
	var best *store.SigningKey
	var keys []store.SigningKey
	for _, fresh := range []bool{false, true} {
		var err error
		if keys, err = m.list(ctx, now, fresh); err != nil {
			return Key{}, err
		}
		for i, k := range keys {
			if signsAt(k, now) && (best == nil || newer(k, *best)) {
				best = &keys[i]
			}
		}
		if best != nil {
			break
		}
	}
	if best == nil {
		return Key{}, ErrNoKey
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.prune(keys)
	c, err := m.parse(*best)
	if err != nil {
		return Key{}, err
	}
	if c.priv == nil {
		priv, err := m.open(*best, c.pub)
		if err != nil {
			return Key{}, err
		}
		c.priv = priv
		m.cache[best.ID] = c
	}
	return Key{id: best.ID, priv: c.priv}, nil
}

// list returns the stored keys, reusing a listing younger than listTTL unless
// fresh is set. Every token signs twice (ID and access token), and reading
// the keys each time was a sixth of a refresh grant's work. A stale listing
// is safe: keys sign one after the other without overlap, so it either holds
// the key that signs now or none (then SigningKey reads again), and a new key
// is published Overlap before it signs, longer than listTTL.
func (m *Manager) list(ctx context.Context, now time.Time, fresh bool) ([]store.SigningKey, error) {
	ttl := min(time.Minute, m.cfg.Overlap/4)
	m.mu.Lock()
	if !fresh && !m.listedAt.IsZero() && now.Sub(m.listedAt) < ttl && !now.Before(m.listedAt) {
		keys := m.listed
		m.mu.Unlock()
		return keys, nil
	}
	m.mu.Unlock()
	keys, err := m.store.SigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("signkey: %w", err)
	}
	m.mu.Lock()
	m.listed, m.listedAt = keys, now
	m.mu.Unlock()
	return keys, nil
}

// forget drops the listing, after this manager changed the keys.
func (m *Manager) forget() {
	m.mu.Lock()
	m.listedAt = time.Time{}
	m.mu.Unlock()
}

// newer orders keys that sign at the same instant: later ActivateAt, then
// later CreatedAt, then the greater id, so every node picks the same one.
func newer(a, b store.SigningKey) bool {
	if !a.ActivateAt.Equal(b.ActivateAt) {
		return a.ActivateAt.After(b.ActivateAt)
	}
	if !a.CreatedAt.Equal(b.CreatedAt) {
		return a.CreatedAt.After(b.CreatedAt)
	}
	return a.ID > b.ID
}

// KeySet returns the public keys of every key not yet past DeleteAfter: the one
// that signs, the next one once it is created and the retired ones whose tokens
// may still be valid, ordered by ActivateAt.
func (m *Manager) KeySet(ctx context.Context) ([]PublicKey, error) {
	now := m.clock()
	keys, err := m.list(ctx, now, false)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.prune(keys)
	out := make([]PublicKey, 0, len(keys))
	for _, k := range keys {
		if now.After(k.DeleteAfter) {
			continue
		}
		c, err := m.parse(k)
		if err != nil {
			return nil, err
		}
		out = append(out, PublicKey{id: k.ID, pub: c.pub})
	}
	return out, nil
}

// JWKS returns KeySet as a JSON Web Key Set, the document relying parties fetch.
func (m *Manager) JWKS(ctx context.Context) (jose.JSONWebKeySet, error) {
	keys, err := m.KeySet(ctx)
	if err != nil {
		return jose.JSONWebKeySet{}, err
	}
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(keys))}
	for _, k := range keys {
		set.Keys = append(set.Keys, k.JWK())
	}
	return set, nil
}

// clock returns now in the precision the store keeps.
func (m *Manager) clock() time.Time { return m.now().UTC().Truncate(time.Microsecond) }

// prune drops cached keys that are no longer stored. m.mu is held.
func (m *Manager) prune(keys []store.SigningKey) {
	for id := range m.cache {
		if !slices.ContainsFunc(keys, func(k store.SigningKey) bool { return k.ID == id }) {
			delete(m.cache, id)
		}
	}
}

// parse returns the cached entry of k, parsing its public key if it is not
// cached or the stored key changed. m.mu is held.
func (m *Manager) parse(k store.SigningKey) (cached, error) {
	if c, ok := m.cache[k.ID]; ok && bytes.Equal(c.public, k.Public) {
		return c, nil
	}
	if k.Algorithm != string(jose.ES256) {
		return cached{}, fmt.Errorf("signkey: key %s: unsupported algorithm %q", k.ID, k.Algorithm)
	}
	parsed, err := x509.ParsePKIXPublicKey(k.Public)
	if err != nil {
		return cached{}, fmt.Errorf("signkey: key %s: public key: %w", k.ID, err)
	}
	pub, ok := parsed.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		return cached{}, fmt.Errorf("signkey: key %s: public key is not ECDSA P-256", k.ID)
	}
	c := cached{public: bytes.Clone(k.Public), pub: pub}
	m.cache[k.ID] = c
	return c, nil
}

// open unseals and parses the private key of k and checks that it belongs to
// pub. Errors name the key id and what failed, never key material.
func (m *Manager) open(k store.SigningKey, pub *ecdsa.PublicKey) (*ecdsa.PrivateKey, error) {
	der, err := m.sealer.OpenFor(k.Private, sealContext(k.ID))
	if err != nil {
		return nil, fmt.Errorf("signkey: key %s: open private key: %w", k.ID, err)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	clear(der)
	if err != nil {
		return nil, fmt.Errorf("signkey: key %s: private key does not parse", k.ID)
	}
	priv, ok := parsed.(*ecdsa.PrivateKey)
	if !ok || !priv.PublicKey.Equal(pub) {
		return nil, fmt.Errorf("signkey: key %s: private key does not match the public key", k.ID)
	}
	return priv, nil
}
