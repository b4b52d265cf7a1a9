package load

import (
	"testing"
	"time"
)

func TestMeasureVerify(t *testing.T) {
	n, elapsed, err := MeasureVerify(t.Context(), 2, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if n <= 0 || elapsed <= 0 || elapsed > 200*time.Millisecond {
		t.Errorf("MeasureVerify = %d pairs in %v, want some within 200ms", n, elapsed)
	}
}
