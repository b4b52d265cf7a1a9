package registry

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckKVNR(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"design example", "X110411675", true},
		{"reserved test number", "T555558879", true},
		{"design invalid example", "A123456789", false},
		{"letter A", "A000000001", false},
		{"lowercase letter", "x110411675", false},
		{"too short", "X11041167", false},
		{"too long", "X1104116750", false},
		{"empty", "", false},
		{"digit first", "1110411675", false},
		{"letter inside", "X11041A675", false},
		{"arabic-indic digit", "X11041167\u0665", false},
		{"fullwidth digit", "X1104116７5", false},
		{"space padded", " X110411675", false},
		{"umlaut letter", "Ä110411675", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckKVNR(tt.in)
			if got := err == nil; got != tt.want {
				t.Fatalf("CheckKVNR(%q) = %v, want valid %v", tt.in, err, tt.want)
			}
			if got := ValidKVNR(tt.in); got != tt.want {
				t.Errorf("ValidKVNR(%q) = %v, want %v", tt.in, got, tt.want)
			}
			if err != nil && !errors.Is(err, ErrInvalidKVNR) {
				t.Errorf("CheckKVNR(%q) = %v, want it to wrap ErrInvalidKVNR", tt.in, err)
			}
		})
	}
}

func TestCheckKVNRErrorHidesNumber(t *testing.T) {
	err := CheckKVNR("A123456789")
	if err == nil {
		t.Fatal("CheckKVNR(A123456789) = nil, want error")
	}
	if got := err.Error(); strings.Contains(got, "123456") || strings.Contains(got, "A123") {
		t.Errorf("error %q contains the KVNR", got)
	}
}

func TestKVNRCheckDigit(t *testing.T) {
	tests := []struct {
		in      string
		want    byte
		wantErr bool
	}{
		{"X11041167", '5', false},
		{"T55555887", '9', false},
		{"A12345678", '0', false}, // 0+2+1+4+3+8+5+3+7+7 = 40
		{"Z99999999", '7', false}, // 2+3+8*9 = 77
		{"a11041167", 0, true},
		{"X1104116", 0, true},
		{"X1104116a", 0, true},
	}
	for _, tt := range tests {
		got, err := KVNRCheckDigit(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("KVNRCheckDigit(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if tt.wantErr {
			continue
		}
		if got != tt.want {
			t.Errorf("KVNRCheckDigit(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if !ValidKVNR(tt.in + string(got)) {
			t.Errorf("ValidKVNR(%q) = false after appending the check digit", tt.in+string(got))
		}
	}
}

func TestMaskKVNR(t *testing.T) {
	tests := []struct{ in, want string }{
		{"X110411675", "X11******5"},
		{"A123456789", "A12******9"},
		{"short", "**********"},
		{"", "**********"},
		{"X11041167\n", "**********"},
	}
	for _, tt := range tests {
		if got := MaskKVNR(tt.in); got != tt.want {
			t.Errorf("MaskKVNR(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzCheckKVNR(f *testing.F) {
	for _, s := range []string{"X110411675", "T555558879", "A123456789", "", "x110411675", "Z999999997"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := CheckKVNR(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidKVNR) {
				t.Fatalf("CheckKVNR(%q) = %v, want ErrInvalidKVNR", s, err)
			}
			return
		}
		if len(s) != 10 || s[0] < 'A' || s[0] > 'Z' || !allDigits(s[1:]) {
			t.Fatalf("CheckKVNR accepted %q of the wrong shape", s)
		}
		d, err := KVNRCheckDigit(s[:9])
		if err != nil || d != s[9] {
			t.Fatalf("KVNRCheckDigit(%q) = %q, %v; want %q", s[:9], d, err, s[9])
		}
		if m := MaskKVNR(s); len(m) != 10 || m[3:9] != "******" {
			t.Fatalf("MaskKVNR(%q) = %q", s, m)
		}
	})
}
