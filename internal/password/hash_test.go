package password

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fast are the cheapest parameters Validate accepts, to keep tests quick.
var fast = Params{Memory: minMemory, Time: 1}

var testPepper = bytes.Repeat([]byte{0x5a}, 32)

func newTestHasher(t testing.TB, p Params, pepper []byte, opts ...Option) *Hasher {
	t.Helper()
	h, err := NewHasher(p, pepper, 2, opts...)
	if err != nil {
		t.Fatalf("NewHasher: %v", err)
	}
	return h
}

func TestHashVerify(t *testing.T) {
	h := newTestHasher(t, fast, nil)
	const pw = "Grüße aus Köln am Rhein 🌧"
	phc, err := h.Hash(t.Context(), pw)
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	re := regexp.MustCompile(`^\$argon2id\$v=19\$m=8192,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !re.MatchString(phc) {
		t.Errorf("Hash = %q, want a PHC string matching %s", phc, re)
	}
	again, _ := h.Hash(t.Context(), pw)
	if again == phc {
		t.Errorf("two hashes of one password are equal; want fresh salts")
	}
	tests := []struct {
		name string
		pw   string
		ok   bool
	}{
		{"same", pw, true},
		{"nfkc equivalent", "Gru\u0308ße aus Ko\u0308ln am Rhein 🌧", true},
		{"wrong", "Grüße aus Köln am Rhein", false},
		{"case", "grüße aus köln am rhein 🌧", false},
		{"empty", "", false},
		{"too long", pw + strings.Repeat("x", maxInputBytes), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(t.Context(), tt.pw, phc)
			if err != nil || ok != tt.ok || rehash {
				t.Errorf("Verify = %v, %v, %v; want %v, false, nil", ok, rehash, err, tt.ok)
			}
		})
	}
}

func TestHashDefaults(t *testing.T) {
	h := newTestHasher(t, Params{}, nil)
	if diff := cmp.Diff(DefaultParams(), h.Params()); diff != "" {
		t.Errorf("Params() mismatch (-want +got):\n%s", diff)
	}
	phc, err := h.Hash(t.Context(), "Kx7!mehrWald92")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(phc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("Hash = %q, want the default parameters", phc)
	}
}

func TestNeedsRehash(t *testing.T) {
	old := newTestHasher(t, fast, nil)
	phc, err := old.Hash(t.Context(), "Kx7!mehrWald92")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		params Params
		rehash bool
	}{
		{"same", fast, false},
		{"time", Params{Memory: minMemory, Time: 2}, true},
		{"memory", Params{Memory: minMemory + 1024, Time: 1}, true},
		{"threads", Params{Memory: minMemory, Time: 1, Threads: 2}, true},
		{"key length", Params{Memory: minMemory, Time: 1, KeyLen: 64}, true},
		{"salt length", Params{Memory: minMemory, Time: 1, SaltLen: 32}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newTestHasher(t, tt.params, nil)
			ok, rehash, err := h.Verify(t.Context(), "Kx7!mehrWald92", phc)
			if err != nil || !ok || rehash != tt.rehash {
				t.Errorf("Verify = %v, %v, %v; want true, %v, nil", ok, rehash, err, tt.rehash)
			}
			ok, rehash, err = h.Verify(t.Context(), "falsch", phc)
			if err != nil || ok || rehash {
				t.Errorf("Verify(wrong) = %v, %v, %v; want false, false, nil", ok, rehash, err)
			}
		})
	}
}

func TestPepper(t *testing.T) {
	plain := newTestHasher(t, fast, nil)
	peppered := newTestHasher(t, fast, testPepper)
	other := newTestHasher(t, fast, bytes.Repeat([]byte{0xa5}, 48))
	const pw = "Kx7!mehrWald92"
	withPepper, err := peppered.Hash(t.Context(), pw)
	if err != nil {
		t.Fatal(err)
	}
	without, err := plain.Hash(t.Context(), pw)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		h      *Hasher
		stored string
		ok     bool
	}{
		{"pepper, pepper", peppered, withPepper, true},
		{"pepper, none", plain, withPepper, false},
		{"pepper, other pepper", other, withPepper, false},
		{"none, none", plain, without, true},
		{"none, pepper", peppered, without, false},
	}
	for _, tt := range tests {
		ok, _, err := tt.h.Verify(t.Context(), pw, tt.stored)
		if err != nil || ok != tt.ok {
			t.Errorf("%s: Verify = %v, %v; want %v, nil", tt.name, ok, err, tt.ok)
		}
	}
}

// TestPepperConstruction pins the documented construction: argon2id over
// HMAC-SHA256(pepper, Normalize(password)).
func TestPepperConstruction(t *testing.T) {
	h := newTestHasher(t, fast, testPepper)
	got := h.input("ﬁnster")
	// HMAC-SHA256(32 × 0x5a, "finster"), computed independently.
	want, _ := hex.DecodeString("5819ffc11021363dbdf5306bb97e650f1bca4eac744cbc02dff69223781dfca2")
	if !bytes.Equal(got, want) {
		t.Errorf("input = %x, want %x", got, want)
	}
	if got := newTestHasher(t, fast, nil).input("ﬁnster"); string(got) != "finster" {
		t.Errorf("input without pepper = %q, want the normalised password", got)
	}
}

func TestDummyVerify(t *testing.T) {
	h := newTestHasher(t, fast, testPepper)
	if err := h.DummyVerify(t.Context(), "Kx7!mehrWald92"); err != nil {
		t.Errorf("DummyVerify: %v", err)
	}
	d, err := parsePHC(h.dummy)
	if err != nil {
		t.Fatalf("dummy hash does not parse: %v", err)
	}
	if diff := cmp.Diff(h.Params(), d.params()); diff != "" {
		t.Errorf("dummy hash parameters differ from the Hasher's (-want +got):\n%s", diff)
	}
}

func TestHashTooLong(t *testing.T) {
	h := newTestHasher(t, fast, nil)
	if _, err := h.Hash(t.Context(), strings.Repeat("x", maxInputBytes+1)); err == nil || !strings.HasPrefix(err.Error(), "password: hash: ") {
		t.Errorf("Hash(too long) error = %v, want a prefixed error", err)
	}
}

func TestVerifyMalformed(t *testing.T) {
	h := newTestHasher(t, fast, nil)
	good, err := h.Hash(t.Context(), "Kx7!mehrWald92")
	if err != nil {
		t.Fatal(err)
	}
	// An absurd stored memory parameter is refused before any work.
	start := time.Now()
	_, _, err = h.Verify(t.Context(), "Kx7!mehrWald92", strings.Replace(good, "m=8192", "m=4194304", 1))
	if !errors.Is(err, ErrMalformedHash) {
		t.Errorf("Verify(m=4 GiB) error = %v, want ErrMalformedHash", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Verify(m=4 GiB) took %v; want it refused before hashing", d)
	}
	if strings.Contains(err.Error(), good) {
		t.Errorf("error %q contains the stored hash", err)
	}
}

func TestParsePHC(t *testing.T) {
	salt := base64.RawStdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 16))
	key := base64.RawStdEncoding.EncodeToString(bytes.Repeat([]byte{2}, 32))
	valid := "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key
	got, err := parsePHC(valid)
	if err != nil {
		t.Fatalf("parsePHC(valid): %v", err)
	}
	want := phc{memory: 19456, time: 2, threads: 1, salt: bytes.Repeat([]byte{1}, 16), key: bytes.Repeat([]byte{2}, 32)}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(phc{})); diff != "" {
		t.Errorf("parsePHC mismatch (-want +got):\n%s", diff)
	}
	if got.encode() != valid {
		t.Errorf("encode = %q, want %q", got.encode(), valid)
	}

	short8 := base64.RawStdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 8))
	if _, err := parsePHC("$argon2id$v=19$m=19456,t=2,p=1$" + short8 + "$" + key); err != nil {
		t.Errorf("parsePHC(8-byte salt) = %v, want accepted", err)
	}

	malformed := map[string]string{
		"empty":                "",
		"no leading dollar":    strings.TrimPrefix(valid, "$"),
		"trailing dollar":      valid + "$",
		"extra field":          valid + "$AAAA",
		"missing key":          "$argon2id$v=19$m=19456,t=2,p=1$" + salt,
		"missing version":      "$argon2id$m=19456,t=2,p=1$" + salt + "$" + key,
		"argon2i":              strings.Replace(valid, "argon2id", "argon2i", 1),
		"argon2d":              strings.Replace(valid, "argon2id", "argon2d", 1),
		"bcrypt":               "$2b$10$abcdefghijklmnopqrstuuWXYZ0123456789abcdefghijklmnopqr",
		"upper algorithm":      strings.Replace(valid, "argon2id", "ARGON2ID", 1),
		"version 16":           strings.Replace(valid, "v=19", "v=16", 1),
		"version leading 0":    strings.Replace(valid, "v=19", "v=019", 1),
		"params reordered":     strings.Replace(valid, "m=19456,t=2,p=1", "t=2,m=19456,p=1", 1),
		"param missing":        strings.Replace(valid, "m=19456,t=2,p=1", "m=19456,t=2", 1),
		"extra param":          strings.Replace(valid, "p=1", "p=1,k=1", 1),
		"keyid param":          strings.Replace(valid, "p=1", "p=1,keyid=abc", 1),
		"space":                strings.Replace(valid, "t=2", "t= 2", 1),
		"plus sign":            strings.Replace(valid, "t=2", "t=+2", 1),
		"negative":             strings.Replace(valid, "t=2", "t=-2", 1),
		"leading zero":         strings.Replace(valid, "t=2", "t=02", 1),
		"hex":                  strings.Replace(valid, "m=19456", "m=0x4c00", 1),
		"empty value":          strings.Replace(valid, "t=2", "t=", 1),
		"memory 4 GiB":         strings.Replace(valid, "m=19456", "m=4194304", 1),
		"memory overflow":      strings.Replace(valid, "m=19456", "m=99999999999999999999", 1),
		"memory too small":     strings.Replace(valid, "m=19456", "m=4", 1),
		"time 0":               strings.Replace(valid, "t=2", "t=0", 1),
		"time 11":              strings.Replace(valid, "t=2", "t=11", 1),
		"threads 0":            strings.Replace(valid, "p=1", "p=0", 1),
		"threads 9":            strings.Replace(valid, "p=1", "p=9", 1),
		"threads 256":          strings.Replace(valid, "p=1", "p=256", 1),
		"salt padded":          strings.Replace(valid, salt, salt+"==", 1),
		"salt url alphabet":    strings.Replace(valid, salt, strings.Replace(salt, "A", "_", 1), 1),
		"salt bad length":      strings.Replace(valid, salt, salt+"AAA", 1),
		"salt newline":         strings.Replace(valid, salt, salt[:10]+"\n"+salt[10:], 1),
		"salt carriage return": strings.Replace(valid, salt, salt[:10]+"\r"+salt[10:], 1),
		"salt non-canonical":   strings.Replace(valid, salt, salt[:len(salt)-1]+"B", 1),
		"salt empty":           strings.Replace(valid, salt, "", 1),
		"salt too short":       strings.Replace(valid, salt, base64.RawStdEncoding.EncodeToString([]byte("1234567")), 1),
		"salt too long":        strings.Replace(valid, salt, base64.RawStdEncoding.EncodeToString(make([]byte, 65)), 1),
		"key too short":        strings.Replace(valid, key, base64.RawStdEncoding.EncodeToString(make([]byte, 15)), 1),
		"key too long":         strings.Replace(valid, key, base64.RawStdEncoding.EncodeToString(make([]byte, 65)), 1),
		"key newline":          valid + "\n",
		"key invalid char":     strings.Replace(valid, key, "*"+key[1:], 1),
		"nul":                  strings.Replace(valid, "$v=", "\x00$v=", 1),
		"doubled separator":    strings.Replace(valid, "$v=", "$$v=", 1),
		"params separator ;":   strings.Replace(valid, "m=19456,t=2", "m=19456;t=2", 1),
		"trailing comma":       strings.Replace(valid, "p=1", "p=1,", 1),
		"uppercase parameter":  strings.Replace(valid, "m=", "M=", 1),
	}
	for name, s := range malformed {
		t.Run(name, func(t *testing.T) {
			_, err := parsePHC(s)
			if !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("parsePHC(%q) error = %v, want ErrMalformedHash", s, err)
			}
			if !strings.HasPrefix(err.Error(), "password: parse hash: ") {
				t.Errorf("error %q lacks the prefix", err)
			}
			if s != "" && strings.Contains(err.Error(), s) {
				t.Errorf("error %q contains the input", err)
			}
		})
	}
}

func FuzzParsePHC(f *testing.F) {
	salt := base64.RawStdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 16))
	key := base64.RawStdEncoding.EncodeToString(bytes.Repeat([]byte{2}, 32))
	for _, s := range []string{
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=8192,t=1,p=8$" + salt + "$" + key,
		"$argon2id$v=19$m=4194304,t=2,p=1$" + salt + "$" + key,
		"$argon2i$v=19$m=19456,t=2,p=1$" + salt + "$" + key,
		"", "$", "$$$$$", "$argon2id$v=19$m=,t=,p=$$",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parsePHC(s)
		if err != nil {
			if !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("parsePHC(%q) error %v does not wrap ErrMalformedHash", s, err)
			}
			return
		}
		// Whatever parses is canonical and safe to recompute.
		if got := h.encode(); got != s {
			t.Fatalf("parsePHC(%q) then encode = %q, want the input", s, got)
		}
		if h.memory < minMemory || h.memory > maxMemory || h.time < minTime || h.time > maxTime ||
			h.threads < minThreads || h.threads > maxThreads || len(h.salt) < minSaltLen ||
			len(h.salt) > maxSaltLen || len(h.key) < minKeyLen || len(h.key) > maxKeyLen {
			t.Fatalf("parsePHC(%q) = %+v: parameters out of bounds", s, h)
		}
	})
}

func TestParamsValidate(t *testing.T) {
	tests := []struct {
		name   string
		params Params
		want   int
	}{
		{"zero is default", Params{}, 0},
		{"default", DefaultParams(), 0},
		{"lowest", Params{Memory: 8192, Time: 1, Threads: 1, KeyLen: 16, SaltLen: 16}, 0},
		{"highest", Params{Memory: 1 << 20, Time: 10, Threads: 8, KeyLen: 64, SaltLen: 64}, 0},
		{"memory 4 MiB", Params{Memory: 4096}, 1},
		{"memory 2 GiB", Params{Memory: 2 << 20}, 1},
		{"time 11", Params{Time: 11}, 1},
		{"threads 9", Params{Threads: 9}, 1},
		{"key 8", Params{KeyLen: 8}, 1},
		{"salt 8", Params{SaltLen: 8}, 1},
		{"all wrong", Params{Memory: 1, Time: 99, Threads: 99, KeyLen: 1, SaltLen: 1}, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := tt.params.Validate()
			if len(errs) != tt.want {
				t.Errorf("Validate() = %v, want %d errors", errs, tt.want)
			}
			for _, err := range errs {
				if !strings.HasPrefix(err.Error(), "password: params: ") {
					t.Errorf("error %q lacks the prefix", err)
				}
			}
		})
	}
}

func TestNewHasherErrors(t *testing.T) {
	tests := []struct {
		name          string
		params        Params
		pepper        []byte
		maxConcurrent int
		opts          []Option
		want          []string
	}{
		{"bad params", Params{Memory: 1}, nil, 1, nil, []string{"memory"}},
		{"short pepper", fast, []byte("kurz"), 1, nil, []string{"pepper"}},
		{"negative concurrency", fast, nil, -1, nil, []string{"concurrent"}},
		{"zero timeout", fast, nil, 1, []Option{WithQueueTimeout(0)}, []string{"queue timeout"}},
		{"negative waiting", fast, nil, 1, []Option{WithMaxWaiting(-1)}, []string{"waiting"}},
		{"all at once", Params{Time: 99}, []byte("x"), -2, []Option{WithQueueTimeout(-time.Second)}, []string{"time", "pepper", "concurrent", "queue timeout"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := NewHasher(tt.params, tt.pepper, tt.maxConcurrent, tt.opts...)
			if err == nil || h != nil {
				t.Fatalf("NewHasher = %v, %v; want an error", h, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestHasherRedactsPepper(t *testing.T) {
	h := newTestHasher(t, fast, testPepper)
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("hasher", "hasher", h)
	outs := []string{h.String(), fmt.Sprintf("%v %+v %#v %s %x %q", h, h, h, h, h, h), buf.String()}
	for _, o := range outs {
		for _, secret := range []string{string(testPepper), hex.EncodeToString(testPepper), base64.StdEncoding.EncodeToString(testPepper), "90 90 90"} {
			if strings.Contains(o, secret) {
				t.Errorf("%q reveals the pepper", o)
			}
		}
	}
	if !strings.Contains(buf.String(), `"pepper":true`) {
		t.Errorf("log %q does not say a pepper is set", buf.String())
	}
}
