package web

import "testing"

func TestISODate(t *testing.T) {
	tests := []struct{ in, want string }{
		{"14.03.1970", "1970-03-14"},
		{" 4.3.1970 ", "1970-03-04"},
		{"1970-03-14", "1970-03-14"},
		{"14.3.70", "14.3.70"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := isoDate(tt.in); got != tt.want {
			t.Errorf("isoDate(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
