package signkey_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/go-cmp/cmp"

	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/signkey"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/testdb"
)

// The method sets an OpenID provider library (zitadel/oidc's op.SigningKey and
// op.Key) asks of the keys.
type (
	opSigningKey interface {
		SignatureAlgorithm() jose.SignatureAlgorithm
		Key() any
		ID() string
	}
	opKey interface {
		ID() string
		Algorithm() jose.SignatureAlgorithm
		Use() string
		Key() any
	}
)

var (
	_ opSigningKey = signkey.Key{}
	_ opKey        = signkey.PublicKey{}
)

// clock is a fixed clock the test moves; safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func sealKey(t *testing.T, id string) seal.Key {
	t.Helper()
	k, err := seal.GenerateKey(id)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func ring(t *testing.T, current seal.Key, older ...seal.Key) *seal.Keyring {
	t.Helper()
	kr, err := seal.NewKeyring(current, older...)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// keyring returns a keyring with one new key.
func keyring(t *testing.T, id string) *seal.Keyring { return ring(t, sealKey(t, id)) }

func mustEnsure(t *testing.T, m *signkey.Manager) {
	t.Helper()
	if err := m.Ensure(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func mustSigningKey(t *testing.T, m *signkey.Manager) signkey.Key {
	t.Helper()
	k, err := m.SigningKey(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func keySetIDs(t *testing.T, m *signkey.Manager) []string {
	t.Helper()
	set, err := m.KeySet(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, k := range set {
		ids = append(ids, k.ID())
	}
	return ids
}

// sign returns a JWT signed with k, as the provider will sign ID tokens.
func sign(t *testing.T, k signkey.Key, subject string) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.SignatureAlgorithm(), Key: k.Key()},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader(jose.HeaderKey("kid"), k.ID()))
	if err != nil {
		t.Fatal(err)
	}
	token, err := jwt.Signed(signer).Claims(jwt.Claims{Subject: subject, Issuer: "https://pforte.example"}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// verify checks token as a relying party does: find the key by the token's kid
// in the key set and in the JWKS document (after a JSON round trip), and check
// the signature with each.
func verify(t *testing.T, m *signkey.Manager, token, subject string) error {
	t.Helper()
	parsed, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return err
	}
	kid := parsed.Headers[0].KeyID
	set, err := m.KeySet(t.Context())
	if err != nil {
		return err
	}
	i := slices.IndexFunc(set, func(k signkey.PublicKey) bool { return k.ID() == kid })
	if i < 0 {
		return fmt.Errorf("kid %s not in the key set", kid)
	}
	if set[i].Algorithm() != jose.ES256 || set[i].Use() != "sig" {
		return fmt.Errorf("kid %s: alg %s, use %s", kid, set[i].Algorithm(), set[i].Use())
	}
	var claims jwt.Claims
	if err := parsed.Claims(set[i].Key(), &claims); err != nil {
		return fmt.Errorf("key set: %w", err)
	}
	if claims.Subject != subject {
		return fmt.Errorf("subject %q, want %q", claims.Subject, subject)
	}

	jwks, err := m.JWKS(t.Context())
	if err != nil {
		return err
	}
	doc, err := json.Marshal(jwks)
	if err != nil {
		return err
	}
	var fetched jose.JSONWebKeySet
	if err := json.Unmarshal(doc, &fetched); err != nil {
		return err
	}
	found := fetched.Key(kid)
	if len(found) != 1 {
		return fmt.Errorf("kid %s: %d keys in the JWKS", kid, len(found))
	}
	if found[0].Algorithm != "ES256" || found[0].Use != "sig" || !found[0].IsPublic() {
		return fmt.Errorf("kid %s: JWKS entry alg %s, use %s, public %v", kid, found[0].Algorithm, found[0].Use, found[0].IsPublic())
	}
	if err := parsed.Claims(found[0], &claims); err != nil {
		return fmt.Errorf("jwks: %w", err)
	}
	return nil
}

func TestFirstEnsureSignsAtOnce(t *testing.T) {
	st := testdb.Open(t)
	clk := newClock()
	m := signkey.New(st, keyring(t, "k1"), clk.Now, signkey.Config{})
	if _, err := m.SigningKey(t.Context()); !errors.Is(err, signkey.ErrNoKey) {
		t.Errorf("SigningKey before Ensure = %v, want ErrNoKey", err)
	}
	mustEnsure(t, m)
	mustEnsure(t, m) // a second run adds nothing
	keys, err := st.SigningKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	now := clk.Now()
	want := []store.SigningKey{{
		Algorithm:   "ES256",
		CreatedAt:   now,
		ActivateAt:  now,
		RetireAt:    now.Add(30 * 24 * time.Hour),
		DeleteAfter: now.Add(31 * 24 * time.Hour),
	}}
	ignore := cmp.FilterPath(func(p cmp.Path) bool {
		f := p.Last().String()
		return f == ".ID" || f == ".Private" || f == ".Public"
	}, cmp.Ignore())
	if diff := cmp.Diff(want, keys, ignore); diff != "" {
		t.Fatalf("keys after the first Ensure (-want +got):\n%s", diff)
	}
	k := mustSigningKey(t, m)
	if k.ID() != keys[0].ID || len(k.ID()) != 22 {
		t.Errorf("signing key %q, stored %q (want 16 random bytes in base64url)", k.ID(), keys[0].ID)
	}
	if _, ok := k.Key().(*ecdsa.PrivateKey); !ok {
		t.Errorf("Key() is %T, want *ecdsa.PrivateKey", k.Key())
	}
	if keys[0].Private.KeyID != "k1" || len(keys[0].Private.Ciphertext) == 0 {
		t.Errorf("private key stored as %q/%d bytes, want sealed under k1", keys[0].Private.KeyID, len(keys[0].Private.Ciphertext))
	}
	if err := verify(t, m, sign(t, k, "first"), "first"); err != nil {
		t.Error(err)
	}
}

// TestTimeline walks the clock through more than two lifetimes, stopping at
// every instant where something changes and every six hours between, running
// Ensure at each stop as a node's periodic job would.
func TestTimeline(t *testing.T) {
	const (
		lifetime = 30 * 24 * time.Hour
		overlap  = 24 * time.Hour
		maxAge   = 24 * time.Hour
		step     = 6 * time.Hour
		micro    = time.Microsecond
	)
	ctx := t.Context()
	st := testdb.Open(t)
	clk := newClock()
	start := clk.Now()
	m := signkey.New(st, keyring(t, "k1"), clk.Now, signkey.Config{Lifetime: lifetime, Overlap: overlap, TokenMaxAge: maxAge})

	// Every key ever seen, by id, as first stored.
	seen := map[string]store.SigningKey{}
	var order []string
	// The last token each key signed, to check it verifies as long as the key
	// is published.
	lastToken := map[string]string{}

	end := start.Add(2*lifetime + 3*24*time.Hour)
	stops := 0
	for now := start; !now.After(end); {
		stops++
		clk.Set(now)
		mustEnsure(t, m)
		stored, err := st.SigningKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range stored {
			if _, ok := seen[k.ID]; !ok {
				seen[k.ID] = k
				order = append(order, k.ID)
			}
		}

		// Exactly one key signs, and SigningKey returns it.
		var signing []string
		for _, k := range stored {
			if !k.ActivateAt.After(now) && now.Before(k.RetireAt) {
				signing = append(signing, k.ID)
			}
		}
		if len(signing) != 1 {
			t.Fatalf("%v: keys signing %v, want exactly one", now.Sub(start), signing)
		}
		k := mustSigningKey(t, m)
		if k.ID() != signing[0] {
			t.Fatalf("%v: SigningKey %s, want %s", now.Sub(start), k.ID(), signing[0])
		}
		// The key that signs Overlap from now is already published.
		soon := now.Add(overlap)
		if !slices.ContainsFunc(stored, func(k store.SigningKey) bool {
			return !k.ActivateAt.After(soon) && soon.Before(k.RetireAt)
		}) {
			t.Fatalf("%v: no key published for %v", now.Sub(start), soon.Sub(start))
		}
		// KeySet holds exactly the keys not past DeleteAfter.
		var want []string
		for _, id := range order {
			if !now.After(seen[id].DeleteAfter) {
				want = append(want, id)
			}
		}
		if diff := cmp.Diff(want, keySetIDs(t, m)); diff != "" {
			t.Fatalf("%v: KeySet (-want +got):\n%s", now.Sub(start), diff)
		}
		// A token signed now verifies, and so does every earlier token whose
		// key is still published.
		lastToken[k.ID()] = sign(t, k, k.ID())
		for id, token := range lastToken {
			err := verify(t, m, token, id)
			published := slices.Contains(want, id)
			if published && err != nil {
				t.Fatalf("%v: token of published key %s: %v", now.Sub(start), id, err)
			}
			if !published && err == nil {
				t.Fatalf("%v: token of deleted key %s still verifies", now.Sub(start), id)
			}
		}

		// Next stop: the next instant where a key changes phase, or one step.
		next := now.Add(step)
		for _, k := range stored {
			for _, c := range []time.Time{
				k.RetireAt.Add(-overlap - micro), k.RetireAt.Add(-overlap),
				k.RetireAt.Add(-micro), k.RetireAt,
				k.DeleteAfter, k.DeleteAfter.Add(micro),
			} {
				if c.After(now) && c.Before(next) {
					next = c
				}
			}
		}
		now = next
	}

	t.Logf("%d stops", stops)
	// Three keys in a gapless chain, each created Overlap before it signs.
	if len(order) != 3 {
		t.Fatalf("%d keys created, want 3", len(order))
	}
	for i, id := range order {
		k := seen[id]
		if k.RetireAt.Sub(k.ActivateAt) != lifetime || k.DeleteAfter.Sub(k.RetireAt) != maxAge {
			t.Errorf("key %d: signs %v, published %v after", i+1, k.RetireAt.Sub(k.ActivateAt), k.DeleteAfter.Sub(k.RetireAt))
		}
		if i == 0 {
			if !k.CreatedAt.Equal(start) || !k.ActivateAt.Equal(start) {
				t.Errorf("key 1: created %v, signs from %v; want both at the start", k.CreatedAt.Sub(start), k.ActivateAt.Sub(start))
			}
			continue
		}
		prev := seen[order[i-1]]
		if !k.ActivateAt.Equal(prev.RetireAt) {
			t.Errorf("key %d signs from %v, key %d retires at %v", i+1, k.ActivateAt.Sub(start), i, prev.RetireAt.Sub(start))
		}
		if k.ActivateAt.Sub(k.CreatedAt) != overlap {
			t.Errorf("key %d published %v before it signs, want %v", i+1, k.ActivateAt.Sub(k.CreatedAt), overlap)
		}
	}
	// Ensure removed the first key from the store once it was past DeleteAfter.
	stored, err := st.SigningKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(stored, func(k store.SigningKey) bool { return k.ID == order[0] }) {
		t.Errorf("key 1 still stored at %v, past its DeleteAfter %v", end.Sub(start), seen[order[0]].DeleteAfter.Sub(start))
	}
}

// TestBoundaries checks the instants around the first rotation one by one,
// with the default timeline (30 days, 1 day, 24 hours).
func TestBoundaries(t *testing.T) {
	const (
		day   = 24 * time.Hour
		micro = time.Microsecond
	)
	st := testdb.Open(t)
	clk := newClock()
	start := clk.Now()
	m := signkey.New(st, keyring(t, "k1"), clk.Now, signkey.Config{})
	mustEnsure(t, m)
	first := mustSigningKey(t, m)
	lastOfFirst := sign(t, first, "first")

	// name calls the first key "first" and any other "second".
	name := func(id string) string {
		if id == first.ID() {
			return "first"
		}
		return "second"
	}
	steps := []struct {
		at      time.Duration // from the start
		signing string
		set     []string
	}{
		{29*day - micro, "first", []string{"first"}},
		{29 * day, "first", []string{"first", "second"}}, // published Overlap ahead
		{30*day - micro, "first", []string{"first", "second"}},
		{30 * day, "second", []string{"first", "second"}}, // the switch
		{31 * day, "second", []string{"first", "second"}}, // RetireAt + TokenMaxAge
		{31*day + micro, "second", []string{"second"}},
	}
	for _, s := range steps {
		clk.Set(start.Add(s.at))
		mustEnsure(t, m)
		k := mustSigningKey(t, m)
		var set []string
		for _, id := range keySetIDs(t, m) {
			set = append(set, name(id))
		}
		if name(k.ID()) != s.signing || !slices.Equal(set, s.set) {
			t.Errorf("at %v: signing %s, key set %v; want %s, %v", s.at, name(k.ID()), set, s.signing, s.set)
		}
		if k.ID() == first.ID() {
			lastOfFirst = sign(t, k, "first")
		}
		err := verify(t, m, lastOfFirst, "first")
		if published := slices.Contains(s.set, "first"); published && err != nil {
			t.Errorf("at %v: the first key's last token: %v", s.at, err)
		} else if !published && err == nil {
			t.Errorf("at %v: the first key's last token verifies after its key was deleted", s.at)
		}
	}
}

// TestAfterOutage: when no node ran Ensure past the end of the chain, no key
// signs until one does, and then a new key signs at once while the retired one
// stays published.
func TestAfterOutage(t *testing.T) {
	const day = 24 * time.Hour
	st := testdb.Open(t)
	clk := newClock()
	start := clk.Now()
	m := signkey.New(st, keyring(t, "k1"), clk.Now, signkey.Config{})
	mustEnsure(t, m)
	first := mustSigningKey(t, m)
	token := sign(t, first, "before")

	clk.Set(start.Add(30*day + 12*time.Hour))
	if _, err := m.SigningKey(t.Context()); !errors.Is(err, signkey.ErrNoKey) {
		t.Fatalf("SigningKey past the end of the chain = %v, want ErrNoKey", err)
	}
	mustEnsure(t, m)
	k := mustSigningKey(t, m)
	if k.ID() == first.ID() {
		t.Fatal("the retired key signs again")
	}
	keys, _ := st.SigningKeys(t.Context())
	if len(keys) != 2 || !keys[1].ActivateAt.Equal(clk.Now()) {
		t.Fatalf("after the outage: %d keys, the new one signs from %v; want 2, now", len(keys), keys[len(keys)-1].ActivateAt.Sub(start))
	}
	if err := verify(t, m, token, "before"); err != nil {
		t.Errorf("a token of the retired key: %v", err)
	}
	if err := verify(t, m, sign(t, k, "after"), "after"); err != nil {
		t.Error(err)
	}
}

// TestParallelEnsureAddsOnce runs Ensure on several nodes at once, each with its
// own store on one database.
func TestParallelEnsureAddsOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, first store.Store) {
		const nodes = 6
		clk := newClock()
		kr := keyring(t, "k1")
		var (
			managers []*signkey.Manager
			stores   []signkey.Store
		)
		for i := range nodes {
			st := first
			if i > 0 {
				st = testdb.Reopen(t, first)
			}
			stores = append(stores, st)
			managers = append(managers, signkey.New(st, kr, clk.Now, signkey.Config{}))
		}
		ensureAll := func() {
			var wg sync.WaitGroup
			startGate := make(chan struct{})
			for _, m := range managers {
				wg.Go(func() {
					<-startGate
					if err := m.Ensure(t.Context()); err != nil {
						t.Error(err)
					}
				})
			}
			close(startGate)
			wg.Wait()
		}
		ensureAll()
		if n := count(t, stores[0]); n != 1 {
			t.Fatalf("%d nodes starting at once added %d keys, want 1", nodes, n)
		}
		// When the next key is due, they add exactly one more; every node
		// then signs with the same key.
		clk.Set(clk.Now().Add(29 * 24 * time.Hour))
		ensureAll()
		if n := count(t, stores[len(stores)-1]); n != 2 {
			t.Fatalf("%d nodes rotating at once left %d keys, want 2", nodes, n)
		}
		clk.Set(clk.Now().Add(24 * time.Hour))
		var ids []string
		for _, m := range managers {
			ids = append(ids, mustSigningKey(t, m).ID())
		}
		if len(slices.Compact(slices.Clone(ids))) != 1 {
			t.Errorf("nodes sign with %v, want one key", ids)
		}
	})
}

func count(t *testing.T, st signkey.Store) int {
	t.Helper()
	keys, err := st.SigningKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return len(keys)
}

// TestDataKeyRotation: a signing key sealed under one data key opens after the
// keyring gained a newer key, and the next signing key is sealed under the
// newer one.
func TestDataKeyRotation(t *testing.T) {
	st := testdb.Open(t)
	clk := newClock()
	oldKey := sealKey(t, "old")
	mustEnsure(t, signkey.New(st, ring(t, oldKey), clk.Now, signkey.Config{}))

	// The keyring of the next release: a new current key, the old one kept.
	rotated := ring(t, sealKey(t, "new"), oldKey)
	m := signkey.New(st, rotated, clk.Now, signkey.Config{})
	k := mustSigningKey(t, m)
	if err := verify(t, m, sign(t, k, "after rotation"), "after rotation"); err != nil {
		t.Error(err)
	}
	clk.Set(clk.Now().Add(29 * 24 * time.Hour))
	mustEnsure(t, m)
	keys, _ := st.SigningKeys(t.Context())
	var sealedUnder []string
	for _, k := range keys {
		sealedUnder = append(sealedUnder, k.Private.KeyID)
	}
	if diff := cmp.Diff([]string{"old", "new"}, sealedUnder); diff != "" {
		t.Errorf("private keys sealed under (-want +got):\n%s", diff)
	}

	// A keyring without the old key cannot open the first signing key.
	clk.Set(clk.Now().Add(-29 * 24 * time.Hour))
	without := signkey.New(st, keyring(t, "new"), clk.Now, signkey.Config{})
	if _, err := without.SigningKey(t.Context()); !errors.Is(err, seal.ErrUnknownKey) {
		t.Errorf("SigningKey without the sealing key = %v, want ErrUnknownKey", err)
	}
}

// TestSealedKeyBoundToItsRow: a private key moved to another row, a public key
// that does not match, and a damaged ciphertext are refused, with errors that
// name the key and carry no key material.
func TestSealedKeyBoundToItsRow(t *testing.T) {
	kr := keyring(t, "k1")
	tests := map[string]func(victim, other *store.SigningKey){
		"private key of another row": func(victim, other *store.SigningKey) { victim.Private = other.Private },
		"public key of another row":  func(victim, other *store.SigningKey) { victim.Public = other.Public },
		"damaged ciphertext": func(victim, _ *store.SigningKey) {
			victim.Private.Ciphertext = slices.Clone(victim.Private.Ciphertext)
			victim.Private.Ciphertext[20] ^= 1
		},
		"public key does not parse": func(victim, _ *store.SigningKey) { victim.Public = []byte("not a key") },
		"other algorithm":           func(victim, _ *store.SigningKey) { victim.Algorithm = "RS256" },
	}
	for name, tamper := range tests {
		t.Run(name, func(t *testing.T) {
			// Two genuine keys from two databases; the victim is copied,
			// tampered with, into a third that the manager reads.
			clk := newClock()
			var genuine []store.SigningKey
			for range 2 {
				src := testdb.Open(t)
				mustEnsure(t, signkey.New(src, kr, clk.Now, signkey.Config{}))
				keys, err := src.SigningKeys(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				genuine = append(genuine, keys[0])
			}
			victim := genuine[0]
			tamper(&victim, &genuine[1])
			st := testdb.Open(t)
			if err := st.AddSigningKey(t.Context(), victim); err != nil {
				t.Fatal(err)
			}
			m := signkey.New(st, kr, clk.Now, signkey.Config{})
			_, err := m.SigningKey(t.Context())
			if err == nil {
				t.Fatal("SigningKey accepted the tampered key")
			}
			if !strings.Contains(err.Error(), victim.ID) {
				t.Errorf("error %q does not name the key %s", err, victim.ID)
			}
			if strings.Contains(err.Error(), string(victim.Private.Ciphertext)) {
				t.Errorf("error %q carries the ciphertext", err)
			}
		})
	}
}

func TestRedaction(t *testing.T) {
	st := testdb.Open(t)
	clk := newClock()
	m := signkey.New(st, keyring(t, "k1"), clk.Now, signkey.Config{})
	mustEnsure(t, m)
	k := mustSigningKey(t, m)
	priv := k.Key().(*ecdsa.PrivateKey)
	d, err := priv.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{
		fmt.Sprintf("%x", d), fmt.Sprintf("%X", d), new(big.Int).SetBytes(d).String(), // the scalar in hex and decimal
		base64.RawURLEncoding.EncodeToString(d), base64.StdEncoding.EncodeToString(d),
	}

	var logged bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logged, nil))
	logger.Info("signing", "key", k)
	logger.Info("signing", slog.Any("key", k))
	outputs := map[string]string{
		"String": k.String(),
		"slog":   logged.String(),
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d", "%q"} {
		outputs[verb] = fmt.Sprintf(verb, k)
		outputs[verb+" of a struct"] = fmt.Sprintf(verb, struct{ Key signkey.Key }{k})
		outputs[verb+" of a pointer"] = fmt.Sprintf(verb, &k)
	}
	for name, out := range outputs {
		for _, secret := range secrets {
			if strings.Contains(out, secret) {
				t.Errorf("%s shows the private key: %s", name, out)
			}
		}
		if !strings.Contains(out, k.ID()) || !strings.Contains(out, "REDACTED") {
			t.Errorf("%s = %q, want the id and REDACTED", name, out)
		}
	}

	// The key set and the JWKS document hold public keys only.
	jwks, err := m.JWKS(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	doc, err := json.Marshal(jwks)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(doc), `"d"`) || strings.Contains(string(doc), base64.RawURLEncoding.EncodeToString(d)) {
		t.Errorf("JWKS holds a private key: %s", doc)
	}
	for _, jwk := range jwks.Keys {
		if !jwk.IsPublic() {
			t.Errorf("JWKS key %s is not public", jwk.KeyID)
		}
	}
}

// TestConcurrentUse signs from many goroutines while the clock crosses a
// rotation and Ensure runs, for the race detector.
func TestConcurrentUse(t *testing.T) {
	st := testdb.Open(t)
	clk := newClock()
	start := clk.Now()
	m := signkey.New(st, keyring(t, "k1"), clk.Now, signkey.Config{})
	mustEnsure(t, m)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 20 {
				if i == 0 {
					clk.Set(start.Add(time.Duration(j) * 36 * time.Hour))
					if err := m.Ensure(t.Context()); err != nil {
						t.Error(err)
						return
					}
				}
				k, err := m.SigningKey(t.Context())
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := m.KeySet(t.Context()); err != nil {
					t.Error(err)
					return
				}
				_ = sign(t, k, "x")
			}
		})
	}
	wg.Wait()
}

func TestConfigValidate(t *testing.T) {
	const day = 24 * time.Hour
	tests := []struct {
		name string
		cfg  signkey.Config
		want int // number of problems
	}{
		{"defaults", signkey.Config{}, 0},
		{"explicit", signkey.Config{Lifetime: 7 * day, Overlap: 12 * time.Hour, TokenMaxAge: time.Hour}, 0},
		{"negative everything", signkey.Config{Lifetime: -1, Overlap: -1, TokenMaxAge: -1}, 3},
		{"lifetime too short", signkey.Config{Lifetime: time.Minute, Overlap: time.Second}, 1},
		{"lifetime too long", signkey.Config{Lifetime: 400 * day}, 1},
		{"overlap as long as the lifetime", signkey.Config{Lifetime: 2 * day, Overlap: 2 * day}, 1},
		{"default overlap longer than a short lifetime", signkey.Config{Lifetime: 12 * time.Hour}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := tt.cfg.Validate()
			if len(errs) != tt.want {
				t.Errorf("Validate(%+v) = %v, want %d problems", tt.cfg, errs, tt.want)
			}
			for _, err := range errs {
				if !strings.HasPrefix(err.Error(), "signkey.") {
					t.Errorf("problem %q does not name its setting", err)
				}
			}
		})
	}
}

// countingStore counts the listings a manager reads from the real store.
type countingStore struct {
	signkey.Store
	mu    sync.Mutex
	lists int
}

func (c *countingStore) SigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	c.mu.Lock()
	c.lists++
	c.mu.Unlock()
	return c.Store.SigningKeys(ctx)
}

// TestListingReused: signing reads the stored keys at most once a minute,
// and at once when the listing it has holds no key that signs now (another
// node's key took over).
func TestListingReused(t *testing.T) {
	st := testdb.Open(t)
	clk := newClock()
	cs := &countingStore{Store: st}
	ring := keyring(t, "k1")
	m := signkey.New(cs, ring, clk.Now, signkey.Config{})
	mustEnsure(t, m)
	first := mustSigningKey(t, m)
	for range 10 {
		mustSigningKey(t, m)
		if _, err := m.KeySet(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if cs.lists != 1 {
		t.Errorf("11 signatures and 10 key sets read the keys %d times, want once", cs.lists)
	}
	clk.Set(clk.Now().Add(time.Minute))
	mustSigningKey(t, m)
	if cs.lists != 2 {
		t.Errorf("after a minute the keys were read %d times in all, want 2", cs.lists)
	}
	// Another node (its own manager) rotates: once the first key retires,
	// this manager's listing has no signing key and it reads again at once.
	other := signkey.New(st, ring, clk.Now, signkey.Config{})
	clk.Set(clk.Now().Add(30*24*time.Hour - 24*time.Hour))
	mustEnsure(t, other)
	mustSigningKey(t, m) // lists again (a minute passed), sees the next key
	clk.Set(clk.Now().Add(24 * time.Hour))
	if k := mustSigningKey(t, m); k.ID() == first.ID() {
		t.Errorf("after the first key retired, the manager still signs with it")
	}
}
