package node_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// ksTwoSample is the two-sample Kolmogorov–Smirnov test: D, the largest
// distance between the two empirical distribution functions, and the
// asymptotic p-value of seeing a D this large when both samples come from
// one distribution (Kolmogorov's distribution with Stephens' small-sample
// correction, as in Numerical Recipes' kstwo).
func ksTwoSample(a, b []float64) (d, p float64) {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	n1, n2 := float64(len(x)), float64(len(y))
	var i, j int
	for i < len(x) && j < len(y) {
		v := math.Min(x[i], y[j])
		for i < len(x) && x[i] <= v {
			i++
		}
		for j < len(y) && y[j] <= v {
			j++
		}
		d = math.Max(d, math.Abs(float64(i)/n1-float64(j)/n2))
	}
	ne := math.Sqrt(n1 * n2 / (n1 + n2))
	return d, kolmogorovQ((ne + 0.12 + 0.11/ne) * d)
}

// kolmogorovQ is P(K > lambda) for Kolmogorov's distribution:
// 2 Σ_{k≥1} (-1)^{k-1} exp(-2 k² λ²).
func kolmogorovQ(lambda float64) float64 {
	if lambda < 0.2 {
		return 1
	}
	var sum float64
	sign := 1.0
	for k := 1; k <= 100; k++ {
		term := sign * math.Exp(-2*float64(k*k)*lambda*lambda)
		sum += term
		if math.Abs(term) < 1e-12 {
			break
		}
		sign = -sign
	}
	return math.Min(1, math.Max(0, 2*sum))
}

func TestKolmogorovSmirnov(t *testing.T) {
	// Known values of Kolmogorov's distribution: the 5 % and 1 % critical
	// values are 1.358 and 1.628.
	for _, c := range []struct{ lambda, want float64 }{{1.358, 0.05}, {1.628, 0.01}, {1.0, 0.27}} {
		if got := kolmogorovQ(c.lambda); math.Abs(got-c.want) > 0.002 {
			t.Errorf("Q(%v) = %.4f, want %.3f", c.lambda, got, c.want)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	sample := func(n int, shift float64) []float64 {
		out := make([]float64, n)
		for i := range out {
			out[i] = r.NormFloat64() + shift
		}
		return out
	}
	if _, p := ksTwoSample(sample(2000, 0), sample(2000, 0)); p < 0.01 {
		t.Errorf("one distribution: p = %.4f, want it not rejected", p)
	}
	if d, p := ksTwoSample(sample(2000, 0), sample(2000, 0.3)); p > 1e-6 || d < 0.08 {
		t.Errorf("shifted by 0.3 σ: D = %.3f, p = %.2g, want it rejected", d, p)
	}
	if d, _ := ksTwoSample([]float64{1, 2, 3}, []float64{4, 5, 6}); d != 1 {
		t.Errorf("disjoint samples: D = %v, want 1", d)
	}
}
