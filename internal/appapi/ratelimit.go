package appapi

import (
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// ipLimiter is a token bucket per client IP, in memory. It slows down bulk
// guessing from one address; the exact per-account limits live in the database
// (package account), so they hold across nodes even if these buckets do not.
type ipLimiter struct {
	mu      sync.Mutex
	rate    rate.Limit
	burst   int
	buckets map[netip.Addr]*bucket
	now     func() time.Time
	sweep   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newIPLimiter(perSecond float64, burst int, now func() time.Time) *ipLimiter {
	return &ipLimiter{rate: rate.Limit(perSecond), burst: burst, buckets: map[netip.Addr]*bucket{}, now: now}
}

// allow takes a token for the client of r, or says how long to wait.
func (l *ipLimiter) allow(r *http.Request) (ok bool, retryAfter time.Duration) {
	ip := clientIP(r)
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.sweep) > time.Minute {
		// Forget idle buckets so memory stays bounded by active clients.
		for k, b := range l.buckets {
			if now.Sub(b.seen) > 10*time.Minute {
				delete(l.buckets, k)
			}
		}
		l.sweep = now
	}
	b, found := l.buckets[ip]
	if !found {
		b = &bucket{lim: rate.NewLimiter(l.rate, l.burst)}
		l.buckets[ip] = b
	}
	b.seen = now
	res := b.lim.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

// clientIP is the address that connected (forwarded headers are not trusted),
// IPv6 grouped by /64 so one client cannot rotate through its prefix.
func clientIP(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.Addr()
	}
	return ip
}
