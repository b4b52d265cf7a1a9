package appclient

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

func TestDefaultKDFJSON(t *testing.T) {
	got, err := json.Marshal(DefaultKDF())
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"alg":"argon2id","t":3,"m":65536,"p":1}`; string(got) != want {
		t.Errorf("json.Marshal(DefaultKDF()) = %s, want %s", got, want)
	}
	k, err := ParseKDF(got)
	if err != nil || k != DefaultKDF() {
		t.Errorf("ParseKDF(%s) = %+v, %v; want DefaultKDF()", got, k, err)
	}
}

func TestKDFValidate(t *testing.T) {
	ok := DefaultKDF()
	for _, tc := range []struct {
		name string
		mod  func(*KDFParams)
		ok   bool
	}{
		{"default", func(*KDFParams) {}, true},
		{"smallest", func(k *KDFParams) { *k = testKDF }, true},
		{"largest", func(k *KDFParams) { k.Time, k.Memory, k.Threads = 10, 1<<20, 8 }, true},
		{"other alg", func(k *KDFParams) { k.Alg = "argon2i" }, false},
		{"empty alg", func(k *KDFParams) { k.Alg = "" }, false},
		{"t=0", func(k *KDFParams) { k.Time = 0 }, false},
		{"t=11", func(k *KDFParams) { k.Time = 11 }, false},
		{"m below 8 MiB", func(k *KDFParams) { k.Memory = 8191 }, false},
		{"m above 1 GiB", func(k *KDFParams) { k.Memory = 1<<20 + 1 }, false},
		{"p=0", func(k *KDFParams) { k.Threads = 0 }, false},
		{"p=9", func(k *KDFParams) { k.Threads = 9 }, false},
	} {
		k := ok
		tc.mod(&k)
		err := k.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("%s: Validate(%+v) = %v, want ok=%v", tc.name, k, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrKDF) {
			t.Errorf("%s: error %v does not wrap ErrKDF", tc.name, err)
		}
		if _, err := json.Marshal(k); (err == nil) != tc.ok {
			t.Errorf("%s: json.Marshal error = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

func TestParseKDF(t *testing.T) {
	for _, tc := range []struct {
		in         string
		wire, file bool // accepted by ParseKDF, by UnmarshalJSON
	}{
		{`{"alg":"argon2id","t":3,"m":65536,"p":1}`, true, true},
		{`{"alg":"argon2id","t":1,"m":8192,"p":4}`, true, true},
		{"{\n  \"alg\": \"argon2id\",\n  \"t\": 3,\n  \"m\": 65536,\n  \"p\": 1\n}", false, true},
		{` {"alg":"argon2id","t":3,"m":65536,"p":1}`, false, true},
		{`{"t":3,"alg":"argon2id","m":65536,"p":1}`, false, false},            // order
		{`{"alg":"argon2id","t":3,"m":65536}`, false, false},                  // missing p
		{`{"alg":"argon2id","t":3,"m":65536,"p":1,"x":0}`, false, false},      // unknown key
		{`{"alg":"argon2id","t":3,"t":3,"m":65536,"p":1}`, false, false},      // duplicate
		{`{"alg":"argon2id","t":03,"m":65536,"p":1}`, false, false},           // leading zero
		{`{"alg":"argon2id","t":3.0,"m":65536,"p":1}`, false, false},          // not an integer
		{`{"alg":"argon2id","t":3,"m":65536,"p":-1}`, false, false},           // negative
		{`{"alg":"argon\u0032id","t":3,"m":65536,"p":1}`, false, false},       // escaped
		{`{"alg":"argon2id","t":3,"m":65536,"p":1}x`, false, false},           // trailing
		{`{"alg":"argon2id","t":3,"m":1024,"p":1}`, false, false},             // m too small
		{`{"alg":"argon2id","T":3,"m":65536,"p":1}`, false, false},            // key case
		{`{"alg":"argon2id","t":3,"m":65536,"p":1,}`, false, false},           // trailing comma
		{`["argon2id",3,65536,1]`, false, false},                              // array
		{`null`, false, false},                                                // null
		{`{"alg":"argon2id","t":3,"m":65536,"p":1}{"alg":"x"}`, false, false}, // two values
	} {
		_, err := ParseKDF([]byte(tc.in))
		if (err == nil) != tc.wire {
			t.Errorf("ParseKDF(%s) error = %v, want ok=%v", tc.in, err, tc.wire)
		}
		var k KDFParams
		err = json.Unmarshal([]byte(tc.in), &k)
		if (err == nil) != tc.file {
			t.Errorf("json.Unmarshal(%s) error = %v, want ok=%v", tc.in, err, tc.file)
		}
	}
}

func TestCheckNewPIN(t *testing.T) {
	for _, tc := range []struct {
		pin  string
		want error
	}{
		{"314159", nil},
		{"271828", nil},
		{"123457", nil},
		{"135790", nil},
		{"000000", ErrTrivialPIN},
		{"999999", ErrTrivialPIN},
		{"123456", ErrTrivialPIN},
		{"234567", ErrTrivialPIN},
		{"456789", ErrTrivialPIN},
		{"567890", ErrTrivialPIN}, // 9 and 0 adjacent
		{"890123", ErrTrivialPIN},
		{"654321", ErrTrivialPIN},
		{"987654", ErrTrivialPIN},
		{"109876", ErrTrivialPIN},
		{"012345", ErrTrivialPIN},
		{"", ErrPINFormat},
		{"12345", ErrPINFormat},
		{"1234567", ErrPINFormat},
		{"12a456", ErrPINFormat},
		{"12 456", ErrPINFormat},
		{"١٢٣٤٥٧", ErrPINFormat}, // Arabic-Indic digits are not ASCII
		{"３１４１５９", ErrPINFormat}, // fullwidth digits
	} {
		if got := CheckNewPIN(tc.pin); !errors.Is(got, tc.want) || (tc.want == nil) != (got == nil) {
			t.Errorf("CheckNewPIN(%q) = %v, want %v", tc.pin, got, tc.want)
		}
	}
	// A trivial PIN is still a well-formed one: signing with it works, so a PIN
	// set by an older app version keeps working.
	if err := CheckPINFormat("123456"); err != nil {
		t.Errorf("CheckPINFormat(123456) = %v, want nil", err)
	}
}

func TestDerivePINKey(t *testing.T) {
	d, k := testDevice()
	again, err := DerivePINKey(testPIN, d.secret[:], testKDF)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, k) {
		t.Error("DerivePINKey is not deterministic")
	}
	if _, err := DerivePINKey("12345", d.secret[:], testKDF); !errors.Is(err, ErrPINFormat) {
		t.Errorf("DerivePINKey(5 digits) error = %v, want ErrPINFormat", err)
	}
	if _, err := DerivePINKey(testPIN, d.secret[:31], testKDF); err == nil {
		t.Error("DerivePINKey(31-byte secret) succeeded, want error")
	}
	bad := testKDF
	bad.Memory = 1024
	if _, err := DerivePINKey(testPIN, d.secret[:], bad); !errors.Is(err, ErrKDF) {
		t.Errorf("DerivePINKey(m=1 MiB) error = %v, want ErrKDF", err)
	}
}

func FuzzParseKDF(f *testing.F) {
	f.Add([]byte(`{"alg":"argon2id","t":3,"m":65536,"p":1}`))
	f.Add([]byte(`{"alg":"argon2id","t":3,"m":65536,"p":1,"p":2}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := ParseKDF(b)
		if err != nil {
			return
		}
		if err := k.Validate(); err != nil {
			t.Errorf("ParseKDF(%s) accepted invalid parameters: %v", b, err)
		}
		if got, _ := json.Marshal(k); !bytes.Equal(got, b) {
			t.Errorf("ParseKDF(%s) accepted a non-canonical form of %s", b, got)
		}
	})
}
