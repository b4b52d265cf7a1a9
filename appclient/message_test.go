package appclient

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestContentEncoding(t *testing.T) {
	got := ContentEncoding("t", "ä", []byte{0x7b, 0x7d})
	want := mustHex("00000011" + "70666f7274652d636f6e74656e742d7631" + // "pforte-content-v1"
		"00000001" + "74" + // "t"
		"00000002" + "c3a4" + // "ä" in UTF-8
		"00000002" + "7b7d") // "{}"
	if !bytes.Equal(got, want) {
		t.Errorf("ContentEncoding = %x, want %x", got, want)
	}
	// Field boundaries matter: moving a byte from type to text changes the hash.
	if ContentHash("ab", "c", nil) == ContentHash("a", "bc", nil) {
		t.Error("ContentHash does not separate its fields")
	}
	// Text is hashed exactly: no normalisation, no trimming.
	composed, decomposed := "Müller", "Mu\u0308ller"
	if ContentHash("x", composed, nil) == ContentHash("x", decomposed, nil) {
		t.Error("ContentHash normalised the text")
	}
	if ContentHash("x", "a", nil) == ContentHash("x", "a ", nil) {
		t.Error("ContentHash trimmed the text")
	}
	// An empty data field and absent data are the same bytes.
	if ContentHash(PurposeLogin, "", nil) != ContentHash(PurposeLogin, "", []byte{}) {
		t.Error("nil and empty data differ")
	}
}

func TestBindAndPINChangeContent(t *testing.T) {
	got := BindContent([]byte{1}, []byte{2, 3}, []byte("{}"), "n", "")
	want := mustHex("0000000101" + "000000020203" + "000000027b7d" + "000000016e" + "00000000")
	if !bytes.Equal(got, want) {
		t.Errorf("BindContent = %x, want %x", got, want)
	}
	got = PINChangeContent([]byte{9}, []byte("{}"))
	want = mustHex("0000000109" + "000000027b7d")
	if !bytes.Equal(got, want) {
		t.Errorf("PINChangeContent = %x, want %x", got, want)
	}
}

func TestSignedMessage(t *testing.T) {
	var h [32]byte
	h[0], h[31] = 0xaa, 0xbb
	got := SignedMessage("login", "c1", []byte{0xde, 0xad}, h)
	want := mustHex("0000000d" + "70666f7274652d6170702d7631" + // "pforte-app-v1"
		"00000005" + "6c6f67696e" + // "login"
		"00000002" + "6331" + // "c1"
		"00000002" + "dead" +
		"00000020" + "aa" + strings.Repeat("00", 30) + "bb")
	if !bytes.Equal(got, want) {
		t.Errorf("SignedMessage = %x, want %x", got, want)
	}
}

func TestChallengeValidate(t *testing.T) {
	ok := testChallenge(PurposeLogin)
	for _, tc := range []struct {
		name string
		mod  func(*Challenge)
		ok   bool
	}{
		{"ok", func(*Challenge) {}, true},
		{"every purpose", func(c *Challenge) {
			for _, p := range purposes {
				c.Purpose = p
				if err := c.Validate(); err != nil {
					t.Errorf("purpose %q: %v", p, err)
				}
			}
		}, true},
		{"64-char id", func(c *Challenge) { c.ID = strings.Repeat("aZ9_-", 12) + "abcd" }, true},
		{"64-byte nonce", func(c *Challenge) { c.Nonce = make([]byte, 64) }, true},
		{"empty id", func(c *Challenge) { c.ID = "" }, false},
		{"65-char id", func(c *Challenge) { c.ID = strings.Repeat("a", 65) }, false},
		{"id with dot", func(c *Challenge) { c.ID = "ch.1" }, false},
		{"id with space", func(c *Challenge) { c.ID = "ch 1" }, false},
		{"id with umlaut", func(c *Challenge) { c.ID = "chä" }, false},
		{"15-byte nonce", func(c *Challenge) { c.Nonce = make([]byte, 15) }, false},
		{"65-byte nonce", func(c *Challenge) { c.Nonce = make([]byte, 65) }, false},
		{"unknown purpose", func(c *Challenge) { c.Purpose = "approve2" }, false},
		{"upper-case purpose", func(c *Challenge) { c.Purpose = "LOGIN" }, false},
	} {
		c := ok
		tc.mod(&c)
		err := c.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("%s: Validate = %v, want ok=%v", tc.name, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrChallenge) {
			t.Errorf("%s: error %v does not wrap ErrChallenge", tc.name, err)
		}
	}
}

func TestChallengeJSON(t *testing.T) {
	in := `{"challenge_id":"ch_1","nonce":"oKGio6SlpqeoqaqrrK2urw","purpose":"approve","expires_at":"2030-01-02T03:04:05Z","approval_id":"ignored"}`
	var c Challenge
	if err := json.Unmarshal([]byte(in), &c); err != nil {
		t.Fatal(err)
	}
	want := Challenge{ID: "ch_1", Nonce: seq(0xa0, 16), Purpose: "approve", ExpiresAt: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("Unmarshal (-want +got):\n%s", diff)
	}
	out, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"challenge_id":"ch_1","nonce":"oKGio6SlpqeoqaqrrK2urw","purpose":"approve","expires_at":"2030-01-02T03:04:05Z"}`; string(out) != want {
		t.Errorf("Marshal = %s, want %s", out, want)
	}
	for _, bad := range []string{
		`{"challenge_id":"ch_1","nonce":"oKGio6SlpqeoqaqrrK2urw","purpose":"approve"}`,
		`{"challenge_id":"ch_1","nonce":"oKGio6SlpqeoqaqrrK2urw==","purpose":"approve","expires_at":"2030-01-02T03:04:05Z"}`,
		`{"challenge_id":"ch_1","nonce":"oKGio6SlpqeoqaqrrK2u","purpose":"approve","expires_at":"2030-01-02T03:04:05Z"}`,
		`{"challenge_id":"ch 1","nonce":"oKGio6SlpqeoqaqrrK2urw","purpose":"approve","expires_at":"2030-01-02T03:04:05Z"}`,
		`{"challenge_id":"ch_1","nonce":"oKGio6SlpqeoqaqrrK2urw","purpose":"pay","expires_at":"2030-01-02T03:04:05Z"}`,
		`{"challenge_id":"ch_1","nonce":"oKGio6SlpqeoqaqrrK2urw","purpose":"approve","expires_at":"tomorrow"}`,
		`{"challenge_id":1}`,
		`null`,
	} {
		var c Challenge
		if err := json.Unmarshal([]byte(bad), &c); err == nil {
			t.Errorf("Unmarshal(%s) succeeded, want error", bad)
		}
	}
}

func FuzzChallengeJSON(f *testing.F) {
	f.Add([]byte(`{"challenge_id":"ch_1","nonce":"oKGio6SlpqeoqaqrrK2urw","purpose":"approve","expires_at":"2030-01-02T03:04:05Z"}`))
	f.Add([]byte(`{"challenge_id":"","nonce":"","purpose":"","expires_at":""}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var c Challenge
		if err := json.Unmarshal(b, &c); err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Errorf("Unmarshal(%s) accepted an invalid challenge: %v", b, err)
		}
	})
}
