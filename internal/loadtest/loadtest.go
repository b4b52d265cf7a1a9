// Package loadtest drives named scenarios against a Pforte system at a fixed
// rate for a bounded time and reports, per endpoint, the requests, p50 and
// p99 and the answers by class (2xx, 4xx, 503, other 5xx, transport errors).
// vegeta paces the scenarios; each scenario is one flow of requests (a
// password login, an app login signed by the reference client, an access
// request, an approval from the request to the phone's answer) run inside
// vegeta's client, so every step is measured on its own and the flow as a
// whole. RunClosed runs the app login or the approval flow in a closed loop
// instead (N workers, back to back, no rate): what a node does when kept
// busy, for `pforte load app` and `pforte load approval`.
//
// A Ledger records, per person, device and approval, what the server
// confirmed and what was cut off (no answer, or a proxy's 502/504): the
// reliability suite (internal/scale) holds the database against it.
//
// Load goes to loopback only, unless the operator names one other host
// exactly (Target.AllowRemote): the dialer then reaches that host's
// addresses as resolved at the start and nothing else. Rates and durations
// are bounded (MaxRate, MinDuration, MaxDuration).
//
// Retries follow what an answer proves: a 503 says nothing was processed, so
// every step is sent again after its Retry-After (bounded by the run);
// a cut-off step is sent again only when sending it twice changes nothing
// (a challenge, a read, a right login), and an approval whose answer was cut
// off is looked up before it is answered again. An access request or a wrong
// password or PIN that was cut off is never sent again: the ledger counts it
// as cut off.
package loadtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Bounds of a run.
const (
	MinDuration = 100 * time.Millisecond
	MaxDuration = 10 * time.Minute
	// MaxRate bounds each scenario's flows per second.
	MaxRate = 200
	// requestTimeout bounds one request.
	requestTimeout = 30 * time.Second
	// maxRetryWait bounds one wait for Retry-After.
	maxRetryWait = 5 * time.Second
	// maxAttempts bounds how often one step is sent.
	maxAttempts = 4
)

// Target is the system under load.
type Target struct {
	Base *url.URL
	// AllowRemote is the one host other than loopback the operator allows
	// (their staging system); empty means loopback only.
	AllowRemote string
	allowed     []net.IP // AllowRemote's addresses, resolved once
}

// ParseTarget checks raw, a base URL, against the loopback rule: its host is
// a loopback address or localhost, or exactly allowRemote (which is then
// resolved once; the run reaches only those addresses).
func ParseTarget(ctx context.Context, raw, allowRemote string) (*Target, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("--server must be a base URL such as http://127.0.0.1:8080")
	}
	t := &Target{Base: u, AllowRemote: allowRemote}
	host := u.Hostname()
	if isLoopback(host) {
		return t, nil
	}
	if allowRemote == "" || !strings.EqualFold(host, allowRemote) {
		return nil, fmt.Errorf("--server %s is not on loopback (127.0.0.0/8, ::1, localhost); a staging system must be named exactly with --allow-remote", host)
	}
	if u.Scheme != "https" {
		return nil, fmt.Errorf("--server %s: a remote system is reached over https only", host)
	}
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil || len(addrs) == 0 {
		return nil, fmt.Errorf("--allow-remote %s: cannot resolve it: %v", host, err)
	}
	for _, a := range addrs {
		t.allowed = append(t.allowed, a.IP)
	}
	return t, nil
}

// URL returns the target's address of path.
func (t *Target) URL(path string) string {
	return t.Base.Scheme + "://" + t.Base.Host + path
}

// permits reports whether the run may connect to ip.
func (t *Target) permits(ip net.IP) bool {
	if ip.IsLoopback() {
		return true
	}
	for _, a := range t.allowed {
		if a.Equal(ip) {
			return true
		}
	}
	return false
}

// Client returns an HTTP client whose connections reach only addresses the
// target permits, whatever a name resolves to later, and which follows no
// redirect.
func (t *Target) Client(conns int) *http.Client {
	dialer := &net.Dialer{
		Timeout: 5 * time.Second,
		Control: func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			if ip := net.ParseIP(host); ip == nil || !t.permits(ip) {
				return fmt.Errorf("loadtest: refusing to connect to %s: neither loopback nor the allowed host", address)
			}
			return nil
		},
	}
	return &http.Client{
		Timeout: requestTimeout,
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         dialer.DialContext,
			MaxIdleConns:        conns,
			MaxIdleConnsPerHost: conns,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
