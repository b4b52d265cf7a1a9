package server

import (
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// IPLimiter keeps one token bucket per client address in memory. It slows down
// guessing from one address; the exact limits that matter (per account, per
// device) live in the database and hold across nodes, which these buckets do
// not.
type IPLimiter struct {
	mu      sync.Mutex
	limit   rate.Limit
	burst   int
	now     func() time.Time
	buckets map[netip.Addr]*ipBucket
	swept   time.Time
}

type ipBucket struct {
	lim  *rate.Limiter
	last time.Time
}

// NewIPLimiter allows perSecond requests per client address with bursts of
// burst.
func NewIPLimiter(perSecond float64, burst int, now func() time.Time) *IPLimiter {
	if now == nil {
		now = time.Now
	}
	return &IPLimiter{limit: rate.Limit(perSecond), burst: burst, now: now, buckets: map[netip.Addr]*ipBucket{}}
}

// Allow takes a token for the client of r, or says how long to wait.
func (l *IPLimiter) Allow(r *http.Request) (ok bool, retryAfter time.Duration) {
	addr := ClientAddr(r)
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > time.Minute {
		// Idle buckets are full again; forgetting them bounds memory by
		// the clients active in the last minutes.
		for a, b := range l.buckets {
			if now.Sub(b.last) > 10*time.Minute {
				delete(l.buckets, a)
			}
		}
		l.swept = now
	}
	b := l.buckets[addr]
	if b == nil {
		b = &ipBucket{lim: rate.NewLimiter(l.limit, l.burst)}
		l.buckets[addr] = b
	}
	b.last = now
	res := b.lim.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

// ClientAddr is the address that connected (forwarded headers are not
// trusted), IPv6 grouped by its /64 so one client cannot rotate through its
// prefix.
func ClientAddr(r *http.Request) netip.Addr {
	a := clientAddr(r)
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.Addr()
	}
	return a
}

// ClientIP is the connecting address as text, for the audit trail ("" when it
// cannot be read).
func ClientIP(r *http.Request) string {
	a := clientAddr(r)
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func clientAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}
