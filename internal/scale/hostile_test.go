//go:build scale

package scale

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/node/nodetest"
)

// The state a hostile request must not change: every table but those that
// count and record refused attempts by design (the audit trail, attempt
// counters, the sign-in history) and the migration bookkeeping.
var unchangedTables = []string{"persons", "one_times", "accounts", "sessions", "letters", "identifications", "devices",
	"approvals", "outbox", "signing_keys", "auth_requests", "tokens", "ciba_requests", "notices", "data_upgrades",
	"mail_threads", "mail_messages", "mail_attachments", "staff", "staff_sessions", "staff_requests", "assistant_turns",
	"staff_keys", "staff_challenges", "person_locks", "emails", "mail_queue", "representations"}

// dump is each table's row count and a digest of its rows.
func dump(t *testing.T, db *sql.DB) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, table := range unchangedTables {
		var n int64
		var sum sql.NullString
		if err := db.QueryRowContext(t.Context(), fmt.Sprintf(
			"SELECT count(*), md5(string_agg(md5(x::text), ',' ORDER BY md5(x::text))) FROM %s x", table)).Scan(&n, &sum); err != nil {
			t.Fatalf("dump %s: %v", table, err)
		}
		out[table] = fmt.Sprintf("%d rows, %s", n, sum.String)
	}
	return out
}

// hostileBodies are what the corpus sends: malformed and mistyped JSON,
// deep nesting, invalid UTF-8, huge fields, injection strings and path
// tricks, form bodies of the wrong shape.
var hostileBodies = []string{
	"", "{}", "[]", "null", `"x"`, `{"kvnr":`, strings.Repeat("[", 5000), `{"kvnr":"\xff\xfe","password":"x"}`,
	"kvnr=%ff&password=%00&birth_date=99.99.9999", `{"kvnr":7,"password":["a"],"postal_code":{"a":1}}`,
	`{"kvnr":"X110411675' OR '1'='1","password":"x\"; DROP TABLE persons; --"}`,
	`{"device_id":"../../etc/passwd","challenge_id":"ch","device_signature":"!!","pin_signature":""}`,
	`{"purpose":"approve","device_id":"x","approval_id":"y:z"}`, `{"street":"` + strings.Repeat("ä", 5000) + `","postal_code":"1"}`,
	`{"iban":"DE\u0000","subject":"<script>alert(1)</script>","text":"\u202e\u0000"}`, "new_password=" + strings.Repeat("a", 20000),
	`{"attachments":[{"name":"../../x.pdf","content":"JVBERi0="}],"subject":"a","text":"b"}`,
	`{"conversation":"` + strings.Repeat("A", 3000) + `","question":"` + strings.Repeat("?", 600) + `"}`,
}

// fills replace a pattern's wildcards.
var fills = []string{"x", "%ff%fe", strings.Repeat("a", 300), "..%2f..%2fetc", "0"}

// hostile sends the corpus through nginx to every route of a node, with
// broken credentials and cookies, 8 requests at once, and checks that
// nothing answered 5xx (but 503 with Retry-After, which asks to come back)
// and that the tables that hold what people did are unchanged.
func hostile(t *testing.T, c *cluster, db *sql.DB) suiteRow {
	t.Helper()
	n := nodetest.Start(t, nodetest.Options{}) // the route table of a node
	patterns := n.Patterns()
	sort.Strings(patterns)
	before := dump(t, db)

	type job struct{ method, path, body, ct string }
	var jobs []job
	for i, pattern := range patterns {
		method, path, _ := strings.Cut(pattern, " ")
		path = strings.TrimSuffix(path, "{$}")
		for j, body := range hostileBodies {
			// Every body to every route once; fills and content types rotate.
			fill := fills[(i+j)%len(fills)]
			ct := []string{"application/json", "application/x-www-form-urlencoded", "text/plain"}[(i+j)%3]
			p := path
			for strings.Contains(p, "{") {
				a, b := strings.Index(p, "{"), strings.Index(p, "}")
				p = p[:a] + fill + p[b+1:]
			}
			jobs = append(jobs, job{method, p + "?after=-1&limit=99999&state=%ff&redirect_uri=javascript:x", body, ct})
		}
	}
	if len(jobs) < 1000 {
		t.Fatalf("the corpus has %d cases, want at least 1,000", len(jobs))
	}
	client := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var (
		mu      sync.Mutex
		byClass = map[string]int{}
		bad     []string
		sent    atomic.Int64
	)
	next := make(chan job)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
				req, err := http.NewRequestWithContext(ctx, j.method, c.lb+j.path, bytes.NewReader([]byte(j.body)))
				if err != nil {
					cancel()
					continue // not a URL: never reaches a server
				}
				req.Header.Set("Content-Type", j.ct)
				req.Header.Set("Authorization", "Bearer "+strings.Repeat("A", 43))
				req.Header.Set("Cookie", "__Host-pforte_session=garbage; __Host-pforte_staff=x; __Host-pforte_eid=y")
				req.Header.Set("X-Forwarded-For", "' OR 1=1 --")
				req.Header.Set("X-Request-Id", strings.Repeat("\u00e4", 80))
				resp, err := client.Do(req)
				sent.Add(1)
				class := "transport error"
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					class = fmt.Sprintf("%dxx", resp.StatusCode/100)
					if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "" {
						class = "503 with Retry-After"
					}
				}
				mu.Lock()
				byClass[class]++
				if class == "5xx" || class == "transport error" {
					code := 0
					if err == nil {
						code = resp.StatusCode
					}
					bad = append(bad, fmt.Sprintf("%s %s (%s, %q…): %d %v", j.method, j.path, j.ct, j.body[:min(len(j.body), 30)], code, err))
				}
				mu.Unlock()
				cancel()
			}
		}()
	}
	for _, j := range jobs {
		next <- j
	}
	close(next)
	wg.Wait()

	for _, b := range bad {
		t.Error(b)
	}
	after := dump(t, db)
	var changed []string
	for _, table := range unchangedTables {
		if before[table] != after[table] {
			changed = append(changed, fmt.Sprintf("%s: %s → %s", table, before[table], after[table]))
		}
	}
	if len(changed) > 0 {
		t.Errorf("the hostile corpus changed stored state:\n%s", strings.Join(changed, "\n"))
	}
	t.Logf("hostile corpus: %d cases over %d routes through nginx; answers %v; %d tables unchanged", sent.Load(), len(patterns),
		byClass, len(unchangedTables)-len(changed))
	if t.Failed() {
		logErrors(t, c)
	}
	return suiteRow{name: "6 hostile corpus", requests: int(sent.Load()), server: byClass["5xx"]}
}
