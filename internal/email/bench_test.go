package email_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/email/smtptest"
	"github.com/pforte/pforte/internal/store"
)

// BenchmarkDrain measures the queue's drain rate against the real SMTP
// server on loopback (plain, and with STARTTLS and login): b.N queued
// message mails, sent in batches over one connection each. It reports
// mails/s.
func BenchmarkDrain(b *testing.B) {
	for name, opts := range map[string]smtptest.Options{
		"plain":          {},
		"starttls+login": {STARTTLS: true, Username: "pforte", Password: "relay-secret-0815"},
	} {
		b.Run(name, func(b *testing.B) {
			f := newFixture(b, opts, nil)
			f.confirmed(b, "erika@beispiel-mail.de")
			queue := make([]store.OutMail, b.N)
			for i := range queue {
				queue[i] = store.OutMail{ID: fmt.Sprintf("bench-%d", i), PersonID: f.person.ID, Kind: store.OutMailMessage,
					Ref: "m", CreatedAt: f.clock.now()}
			}
			if _, err := f.st.UpdateEmail(b.Context(), f.person.ID, func(*store.Email) error { return nil }, queue...); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			start := time.Now()
			res := f.drain(b)
			elapsed := time.Since(start)
			b.StopTimer()
			if res.Sent != b.N {
				b.Fatalf("sent %d of %d", res.Sent, b.N)
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "mails/s")
		})
	}
}
