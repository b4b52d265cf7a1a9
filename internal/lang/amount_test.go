package lang

import (
	"math"
	"testing"
)

func TestEuro(t *testing.T) {
	tests := []struct {
		cents       int64
		german, eng string
	}{
		{0, "0,00 €", "€0.00"},
		{5, "0,05 €", "€0.05"},
		{99, "0,99 €", "€0.99"},
		{4200, "42,00 €", "€42.00"},
		{123456, "1.234,56 €", "€1,234.56"},
		{100000000, "1.000.000,00 €", "€1,000,000.00"},
		{-4210, "-42,10 €", "-€42.10"},
		{math.MaxInt64, "92.233.720.368.547.758,07 €", "€92,233,720,368,547,758.07"},
		{math.MinInt64, "-92.233.720.368.547.758,08 €", "-€92,233,720,368,547,758.08"},
	}
	for _, tt := range tests {
		if got := German.Euro(tt.cents); got != tt.german {
			t.Errorf("German.Euro(%d) = %q, want %q", tt.cents, got, tt.german)
		}
		if got := English.Euro(tt.cents); got != tt.eng {
			t.Errorf("English.Euro(%d) = %q, want %q", tt.cents, got, tt.eng)
		}
	}
}
