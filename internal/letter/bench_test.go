package letter

import (
	"fmt"
	"testing"
)

// countingWriter counts the bytes written to it.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}

func BenchmarkRender(b *testing.B) {
	r := testRenderer(b)
	l := testLetter(KindPassword)
	var size int
	for b.Loop() {
		pdf, err := r.Render(l)
		if err != nil {
			b.Fatal(err)
		}
		size = len(pdf)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "letters/s")
	b.ReportMetric(float64(size), "bytes/letter")
}

// BenchmarkRenderBatch renders b.N letters in one batch; run it with
// -benchtime=10000x for the size of a real batch.
func BenchmarkRenderBatch(b *testing.B) {
	r := testRenderer(b)
	letters := make([]Letter, b.N)
	for i := range letters {
		l := testLetter(KindPassword)
		l.ID = fmt.Sprintf("PB-%07d", i)
		letters[i] = l
	}
	var w countingWriter
	b.ResetTimer()
	if _, err := r.RenderBatch(&w, letters); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "letters/s")
	b.ReportMetric(float64(w.n)/float64(b.N), "bytes/letter")
}
