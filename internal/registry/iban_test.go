package registry

import (
	"errors"
	"testing"
)

func TestCheckIBAN(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr bool
	}{
		{"DE", "DE89370400440532013000", "DE89370400440532013000", false},
		{"DE with spaces and lower case", "de89 3704 0044 0532 0130 00", "DE89370400440532013000", false},
		{"AT", "AT611904300234573201", "AT611904300234573201", false},
		{"NL", "NL91ABNA0417164300", "NL91ABNA0417164300", false},
		{"FR", "FR1420041010050500013M02606", "FR1420041010050500013M02606", false},
		{"BE", "BE68539007547034", "BE68539007547034", false},
		{"CH", "CH9300762011623852957", "CH9300762011623852957", false},
		{"IT", "IT60X0542811101000000123456", "IT60X0542811101000000123456", false},
		{"ES", "ES9121000418450200051332", "ES9121000418450200051332", false},
		{"LU", "LU280019400644750000", "LU280019400644750000", false},
		{"PL", "PL61109010140000071219812874", "PL61109010140000071219812874", false},
		{"DK", "DK5000400440116243", "DK5000400440116243", false},
		{"GB", "GB29NWBK60161331926819", "GB29NWBK60161331926819", false},
		{"unknown country in 15..34", "XK051212012345678906", "XK051212012345678906", false},
		{"wrong check digits", "DE88370400440532013000", "", true},
		{"swapped digits", "DE89370400440532013001", "", true},
		{"DE too short", "DE8937040044053201300", "", true},
		{"DE too long", "DE893704004405320130000", "", true},
		{"letter in German BBAN", "DE89370400440532O13000", "", true},
		{"check digits 00", "DE00370400440532013000", "", true},
		{"check digits 99", "DE99370400440532013000", "", true},
		{"no country", "1289370400440532013000", "", true},
		{"letters as check digits", "DEAB370400440532013000", "", true},
		{"punctuation", "DE89-3704-0044-0532-0130-00", "", true},
		{"non-ASCII digit", "DE8937040044053201300\u0660", "", true},
		{"unknown country too short", "XK0512120123", "", true},
		{"empty", "", "", true},
		{"only spaces", "    ", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CheckIBAN(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("CheckIBAN(%q) = %q, %v; want error %v", tt.in, got, err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrInvalidIBAN) {
				t.Errorf("CheckIBAN(%q) error %v does not wrap ErrInvalidIBAN", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("CheckIBAN(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestGermanIBAN(t *testing.T) {
	tests := []struct {
		bank, account string
		want          string
		wantErr       bool
	}{
		{"37040044", "532013000", "DE89370400440532013000", false},
		{"37040044", "0532013000", "DE89370400440532013000", false},
		{"10010010", "1", "", false},
		{"3704004", "532013000", "", true},
		{"37040044", "12345678901", "", true},
		{"37040044", "", "", true},
		{"3704004A", "532013000", "", true},
	}
	for _, tt := range tests {
		got, err := GermanIBAN(tt.bank, tt.account)
		if (err != nil) != tt.wantErr {
			t.Errorf("GermanIBAN(%q, %q) = %q, %v; want error %v", tt.bank, tt.account, got, err, tt.wantErr)
			continue
		}
		if tt.wantErr {
			continue
		}
		if tt.want != "" && got != tt.want {
			t.Errorf("GermanIBAN(%q, %q) = %q, want %q", tt.bank, tt.account, got, tt.want)
		}
		if n, err := CheckIBAN(got); err != nil || n != got {
			t.Errorf("CheckIBAN(GermanIBAN(%q, %q)) = %q, %v", tt.bank, tt.account, n, err)
		}
	}
}

func FuzzCheckIBAN(f *testing.F) {
	for _, s := range []string{"DE89370400440532013000", "de89 3704 0044 0532 0130 00", "NL91ABNA0417164300", "", "XK051212012345678906", "DE00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := CheckIBAN(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidIBAN) || n != "" {
				t.Fatalf("CheckIBAN(%q) = %q, %v", s, n, err)
			}
			return
		}
		if len(n) < ibanMinLen || len(n) > ibanMaxLen {
			t.Fatalf("CheckIBAN(%q) = %q of length %d", s, n, len(n))
		}
		if mod97(n[4:], n[:4]) != 1 {
			t.Fatalf("CheckIBAN(%q) = %q failing mod 97", s, n)
		}
		if again, err := CheckIBAN(n); err != nil || again != n {
			t.Fatalf("CheckIBAN(%q) = %q, %v; want it unchanged", n, again, err)
		}
		if n[:2] == "DE" {
			again, err := GermanIBAN(n[4:12], n[12:])
			if err != nil || again != n {
				t.Fatalf("GermanIBAN of %q = %q, %v", n, again, err)
			}
		}
	})
}
