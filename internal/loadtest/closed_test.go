package loadtest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pforte/pforte/appclient"
)

func TestClosedValidate(t *testing.T) {
	fine := Closed{Scenario: AppLogin, Workers: 2, Duration: time.Second, MaxFlows: 10}
	tests := []struct {
		name string
		edit func(*Closed)
		ok   bool
	}{
		{"fine", func(*Closed) {}, true},
		{"approval", func(c *Closed) { c.Scenario = Approval }, true},
		{"most workers", func(c *Closed) { c.Workers = MaxClosedWorkers }, true},
		{"paced scenario", func(c *Closed) { c.Scenario = AccessRequest }, false},
		{"no workers", func(c *Closed) { c.Workers = 0 }, false},
		{"too many workers", func(c *Closed) { c.Workers = MaxClosedWorkers + 1 }, false},
		{"too short", func(c *Closed) { c.Duration = time.Millisecond }, false},
		{"too long", func(c *Closed) { c.Duration = MaxDuration + time.Second }, false},
		{"no flows", func(c *Closed) { c.MaxFlows = 0 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fine
			tt.edit(&c)
			if err := c.Validate(); (err == nil) != tt.ok {
				t.Errorf("Validate() = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

// TestPrintClosed checks the lines the bench scripts read.
func TestPrintClosed(t *testing.T) {
	lat := []time.Duration{}
	for i := 1; i <= 100; i++ {
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	r := &ClosedResult{
		Run:       Closed{Scenario: Approval, Workers: 4, Duration: 2 * time.Second},
		Target:    "http://127.0.0.1:8080",
		Elapsed:   2 * time.Second,
		OK:        100,
		Failed:    map[int]int64{401: 2, 0: 1},
		Latencies: lat,
		Logins:    6,
		Endpoints: []Endpoint{{Name: "PUT /api/v1/me/address", Requests: 103, P50: 3 * time.Millisecond, P99: 9 * time.Millisecond, Classes: Classes{OK: 101, Client: 2}}},
		Errors:    map[string]string{"flow approval": "loadtest: no answer (cut off)"},
	}
	var b strings.Builder
	PrintClosed(&b, r)
	got := map[string]string{}
	for line := range strings.Lines(b.String()) {
		k, v, _ := strings.Cut(strings.TrimSpace(line), ": ")
		got[k] = v
	}
	want := map[string]string{
		"load approval":                   "4 workers for 2s against http://127.0.0.1:8080, 4 phones",
		"flows":                           "103",
		"round trips/s":                   "50.0",
		"latency p50":                     "50.0 ms",
		"latency p90":                     "90.0 ms",
		"latency p99":                     "99.0 ms",
		"failed":                          "3 (1×no answer, 2×401)",
		"app logins for sessions":         "6",
		"endpoint PUT /api/v1/me/address": "103 requests, p50 3.0 ms, p99 9.0 ms, 2xx 101, 4xx 2, 503 0, 502/504 0, other 5xx 0, transport 0",
		"first failure at flow approval":  "loadtest: no answer (cut off)",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("PrintClosed (-want +got):\n%s", diff)
	}
	r.Run.Scenario, r.Failed, r.Errors = AppLogin, map[int]int64{}, nil
	b.Reset()
	PrintClosed(&b, r)
	for _, line := range []string{"app logins/s: 50.0\n", "failed: 0\n"} {
		if !strings.Contains(b.String(), line) {
			t.Errorf("no %q in\n%s", line, b.String())
		}
	}
	if strings.Contains(b.String(), "app logins for sessions") {
		t.Errorf("app logins for sessions printed for app logins:\n%s", b.String())
	}
}

// TestRunClosedCountsOnlyFlowsEndedInTime: a flow still waiting for its
// answer when the run ends counts nowhere, neither as a flow nor at its
// endpoint.
func TestRunClosedCountsOnlyFlowsEndedInTime(t *testing.T) {
	var logins atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/app/challenges", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(appclient.Challenge{ID: "ch_1", Nonce: make([]byte, 32), Purpose: appclient.PurposeLogin, ExpiresAt: time.Now().Add(time.Minute)})
	})
	mux.HandleFunc("POST /api/v1/app/sessions", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // so the server notices the client going away
		if logins.Add(1) > 1 {
			<-r.Context().Done() // the second login hangs past the run's end
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"session_token":"t"}`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	d, err := appclient.NewDevice(nil)
	if err != nil {
		t.Fatal(err)
	}
	d.ID, d.KDF = "dev_1", PhoneKDF
	raw, err := d.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	target, err := ParseTarget(t.Context(), srv.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	st := &State{Password: "x", PIN: "482915", Accounts: []Account{{KVNR: "X110411675", Device: raw}}}
	res, err := RunClosed(t.Context(), target, st, Closed{Scenario: AppLogin, Workers: 1, Duration: time.Second, MaxFlows: 100})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK != 1 || len(res.Failed) != 0 || len(res.Latencies) != 1 {
		t.Errorf("ok %d, failed %v, %d latencies; want 1, none, 1", res.OK, res.Failed, len(res.Latencies))
	}
	requests := map[string]int{}
	for _, e := range res.Endpoints {
		requests[e.Name] = e.Requests
		if e.Classes.Transport != 0 {
			t.Errorf("%s: %d transport errors, want 0 (the cut-off login counts nowhere)", e.Name, e.Classes.Transport)
		}
	}
	if diff := cmp.Diff(map[string]int{"POST /api/v1/app/challenges": 2, "POST /api/v1/app/sessions": 1}, requests); diff != "" {
		t.Errorf("requests per endpoint (-want +got):\n%s", diff)
	}
	// More workers than phones is refused.
	if _, err := RunClosed(t.Context(), target, st, Closed{Scenario: AppLogin, Workers: 2, Duration: time.Second, MaxFlows: 100}); err == nil {
		t.Error("2 workers with 1 phone: no error")
	}
}
