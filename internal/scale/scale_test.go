//go:build scale

package scale

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/loadtest"
)

// rates are the flows per second of every item: a mix an insurer's portal
// sees, small enough for two shared cores.
var rates = map[string]float64{
	loadtest.PasswordLogin: 2,
	loadtest.AppLogin:      2,
	loadtest.Approval:      1,
	loadtest.AccessRequest: 1,
	loadtest.WrongPassword: 1,
	loadtest.WrongPIN:      1,
}

// suiteRow is one line of the suite's table.
type suiteRow struct {
	name                                  string
	requests, held, lost, doubled, server int
	gateway, cutOff                       int
}

// TestReliability runs the three items in order on one system and prints
// the suite's table. PFORTE_SCALE_DURATION sets item 1's load (default 2m);
// items 2 and 3 load for half of it, at least 20 s.
func TestReliability(t *testing.T) {
	tl := findTools(t)
	duration := 2 * time.Minute
	if v := os.Getenv("PFORTE_SCALE_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 10*time.Second || d > loadtest.MaxDuration {
			t.Fatalf("PFORTE_SCALE_DURATION=%q: want a duration between 10s and %v", v, loadtest.MaxDuration)
		}
		duration = d
	}
	short := max(duration/2, 20*time.Second)
	// Item 2 sends more letters and approvals, so that the kills cut some
	// of them off.
	killRates := maps.Clone(rates)
	killRates[loadtest.AccessRequest], killRates[loadtest.Approval] = 3, 2
	plans := []loadtest.Plan{{Rates: rates, Duration: duration}, {Rates: killRates, Duration: short}, {Rates: rates, Duration: short}}

	pg := startPostgres(t, tl)
	dir := t.TempDir()
	bin := filepath.Join(dir, "pforte")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/pforte/pforte/cmd/pforte").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	c := &cluster{t: t, bin: bin, dsn: pg.DSN, dir: dir}
	c.env = append(processEnv(),
		"PFORTE_DATA_KEYS="+strings.TrimSpace(runBin(t, bin, nil, "keygen", "--id", "k1")),
		"PFORTE_AUDIT_KEY_FILE="+writeFile(t, dir, "audit.key", runBin(t, bin, nil, "keygen", "--audit")),
		"PFORTE_LOG_LEVEL=warn",
		// argon2id at 8 MiB: the suite measures the system's behaviour,
		// not the hashing cost (docs/operations.md has those figures).
		"PFORTE_PASSWORD_MEMORY_KIB=8192",
		"PFORTE_HTTP_LOGIN_RATE_PER_IP=100000", "PFORTE_HTTP_LOGIN_BURST_PER_IP=100000")

	var accounts, register int
	for _, p := range plans {
		for _, n := range p.AccountsNeeded() {
			accounts += n
		}
		register += p.RegisterNeeded()
	}
	statePath := filepath.Join(dir, "state.json")
	start := time.Now()
	runBin(t, bin, c.env, "loadtest", "setup", "--database", pg.DSN, "--out", statePath,
		"--accounts", strconv.Itoa(accounts), "--register", strconv.Itoa(register))
	t.Logf("setup: %d accounts with phones, %d register entries in %v", accounts, register, time.Since(start).Round(time.Second))
	state, err := loadtest.ReadState(statePath)
	if err != nil {
		t.Fatal(err)
	}
	parts := split(state, plans)

	for i := range 3 {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("node%d.log", i+1)))
		if err != nil {
			t.Fatal(err)
		}
		c.nodes = append(c.nodes, &node{name: fmt.Sprintf("node%d", i+1), addr: fmt.Sprintf("127.0.0.1:%d", freePort(t)), log: f})
	}
	t.Cleanup(c.stopAll)
	for _, n := range c.nodes {
		if err := c.startNode(n); err != nil {
			t.Fatal(err)
		}
	}
	c.startNginx(tl.nginx)
	target, err := loadtest.ParseTarget(t.Context(), c.lb, "")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("pgx", pg.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	var rows []suiteRow
	t.Run("1 mixed load", func(t *testing.T) {
		res, ledger := load(t, target, parts[0], plans[0], nil)
		rows = append(rows, judge(t, c, "1 mixed load "+plans[0].Duration.String(), db, res, ledger, parts[0], true))
	})
	t.Run("2 kill -9 a node", func(t *testing.T) {
		victim := c.nodes[1]
		// Three kills, each followed by a restart two seconds later.
		res, ledger := load(t, target, parts[1], plans[1], func(ctx context.Context) {
			for range 3 {
				if !sleep(ctx, plans[1].Duration/4-2*time.Second) {
					return
				}
				if err := c.kill(victim); err != nil {
					t.Error(err)
					return
				}
				t.Logf("%s killed with SIGKILL", victim.name)
				sleep(ctx, 2*time.Second)
				if err := c.startNode(victim); err != nil {
					t.Error(err)
					return
				}
				t.Logf("%s started again and ready", victim.name)
			}
		})
		rows = append(rows, judge(t, c, "2 kill -9 a node "+plans[1].Duration.String(), db, res, ledger, parts[1], false))
	})
	t.Run("3 restart PostgreSQL", func(t *testing.T) {
		pids := map[string]int{}
		for _, n := range c.nodes {
			pids[n.name] = n.cmd.Process.Pid
		}
		res, ledger := load(t, target, parts[2], plans[2], func(ctx context.Context) {
			if !sleep(ctx, plans[2].Duration/3) {
				return
			}
			if err := pg.stop(); err != nil {
				t.Error(err)
				return
			}
			t.Log("PostgreSQL stopped (fast)")
			for _, n := range c.nodes {
				took, err := waitStatus(n.url()+"/readyz", http.StatusServiceUnavailable, 15*time.Second)
				if err != nil {
					t.Errorf("%s while PostgreSQL is away: %v", n.name, err)
					continue
				}
				t.Logf("%s: /readyz 503 after %v", n.name, took.Round(10*time.Millisecond))
			}
			sleep(ctx, 3*time.Second)
			if err := pg.start(); err != nil {
				t.Error(err)
				return
			}
			t.Log("PostgreSQL started")
			for _, n := range c.nodes {
				took, err := waitStatus(n.url()+"/readyz", http.StatusOK, 30*time.Second)
				if err != nil {
					t.Errorf("%s after PostgreSQL is back: %v", n.name, err)
					continue
				}
				t.Logf("%s: /readyz 200 after %v", n.name, took.Round(10*time.Millisecond))
			}
		})
		for _, n := range c.nodes {
			if n.cmd.Process.Pid != pids[n.name] || n.cmd.ProcessState != nil || n.cmd.Process.Signal(syscall.Signal(0)) != nil {
				t.Errorf("%s did not live through the restart of PostgreSQL", n.name)
			}
		}
		rows = append(rows, judge(t, c, "3 restart PostgreSQL "+plans[2].Duration.String(), db, res, ledger, parts[2], true))
	})
	t.Run("6 hostile corpus", func(t *testing.T) {
		rows = append(rows, hostile(t, c, db))
	})
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\trequests\theld\tof them cut off\tlost\tdoubled\t5xx (non-503)\tof them 502/504 from nginx")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", r.name, r.requests, r.held, r.cutOff, r.lost, r.doubled, r.server+r.gateway, r.gateway)
	}
	tw.Flush()
	t.Logf("reliability suite:\n%s", b.String())
}

// load runs plan against the target with the state's accounts; during runs
// alongside (it ends when its context does). It logs the run's table.
func load(t *testing.T, target *loadtest.Target, st *loadtest.State, plan loadtest.Plan, during func(ctx context.Context)) (*loadtest.Result, *loadtest.Ledger) {
	t.Helper()
	ledger := loadtest.NewLedger()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var wg sync.WaitGroup
	if during != nil {
		wg.Go(func() { during(ctx) })
	}
	res, err := loadtest.Run(t.Context(), target, st, plan, ledger)
	cancel()
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	loadtest.Print(&b, res)
	t.Logf("load through nginx, %v:\n%s", plan.Duration, b.String())
	return res, ledger
}

// judge holds the database against the ledger and returns the item's row.
// strict items (no node dies) must also see no proxy error at all.
func judge(t *testing.T, c *cluster, name string, db *sql.DB, res *loadtest.Result, ledger *loadtest.Ledger, st *loadtest.State, strict bool) suiteRow {
	t.Helper()
	total := res.Totals()
	row := suiteRow{name: name, server: total.Server, gateway: total.Gateway}
	for _, e := range res.Endpoints {
		row.requests += e.Requests
	}
	if total.Server > 0 {
		t.Errorf("%d answers were 5xx other than 502, 503 and 504 (the application's own)", total.Server)
	}
	if total.BusyBare > 0 {
		t.Errorf("%d answers were 503 without Retry-After", total.BusyBare)
	}
	if strict && total.Gateway > 0 {
		t.Errorf("%d answers were 502 or 504 though no node died", total.Gateway)
	}
	for _, check := range verify(t, db, ledger, st) {
		row.held += check.Held
		row.lost += check.Lost
		row.doubled += check.Doubled
		row.cutOff += check.CutOff
		t.Logf("%s: %d held (%d of them within the bound of a cut-off request), %d lost, %d doubled",
			check.Kind, check.Held, check.CutOff, check.Lost, check.Doubled)
		if check.Lost > 0 || check.Doubled > 0 {
			t.Errorf("%s: %v", check.Kind, check.Bad)
		}
		if check.Held == 0 {
			t.Errorf("%s: nothing to check (no flow of this kind got through)", check.Kind)
		}
	}
	if t.Failed() {
		logErrors(t, c)
	}
	return row
}

// logErrors logs the nodes' error lines, the causes behind their 500s.
func logErrors(t *testing.T, c *cluster) {
	t.Helper()
	for _, n := range c.nodes {
		raw, err := os.ReadFile(n.log.Name())
		if err != nil {
			t.Log(err)
			continue
		}
		var lines []string
		for line := range strings.Lines(string(raw)) {
			if strings.Contains(line, `"level":"ERROR"`) {
				lines = append(lines, strings.TrimSpace(line))
			}
		}
		t.Logf("%s: %d error lines; the last ones:\n%s", n.name, len(lines), strings.Join(lines[max(len(lines)-10, 0):], "\n"))
	}
}

// verify reads the stored counts of the state's persons and phones and
// compares them with the ledger.
func verify(t *testing.T, db *sql.DB, ledger *loadtest.Ledger, st *loadtest.State) []loadtest.Check {
	t.Helper()
	var kvnrs, devices, register []string
	for _, a := range st.Accounts {
		kvnrs = append(kvnrs, a.KVNR)
		d, err := appclient.LoadState(a.Device)
		if err != nil {
			t.Fatal(err)
		}
		devices = append(devices, d.ID)
	}
	for _, e := range st.Register {
		register = append(register, e.KVNR)
	}
	counts := func(query string, arg []string) map[string]int {
		rows, err := db.QueryContext(t.Context(), query, arg)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]int{}
		for rows.Next() {
			var key string
			var n int
			if err := rows.Scan(&key, &n); err != nil {
				t.Fatal(err)
			}
			out[key] = n
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	return []loadtest.Check{
		ledger.Verify(loadtest.KindApproval, counts(`SELECT substr(o.id, 10), count(*) FROM outbox o JOIN persons p ON p.id = o.person_id
			WHERE o.id LIKE 'approval:%' AND p.kvnr = ANY($1) GROUP BY o.id`, kvnrs)),
		ledger.Verify(loadtest.KindLetter, counts(`SELECT p.kvnr, count(*) FROM letters l JOIN persons p ON p.id = l.person_id
			WHERE l.kind = 'password' AND p.kvnr = ANY($1) GROUP BY p.kvnr`, register)),
		ledger.Verify(loadtest.KindPasswordFailure, counts(`SELECT p.kvnr, c.value FROM counters c JOIN persons p ON c.key = 'login:' || p.id::text
			WHERE p.kvnr = ANY($1)`, kvnrs)),
		ledger.Verify(loadtest.KindPINFailure, counts(`SELECT id, pin_failures FROM devices WHERE id = ANY($1)`, devices)),
	}
}

// split gives each plan its own accounts and register entries.
func split(st *loadtest.State, plans []loadtest.Plan) []*loadtest.State {
	var out []*loadtest.State
	var a, r int
	for _, p := range plans {
		n := 0
		for _, k := range p.AccountsNeeded() {
			n += k
		}
		m := p.RegisterNeeded()
		out = append(out, &loadtest.State{Password: st.Password, PIN: st.PIN, Accounts: st.Accounts[a : a+n], Register: st.Register[r : r+m]})
		a, r = a+n, r+m
	}
	return out
}

// processEnv is the test's environment without PFORTE_ variables, which the
// binary would read as configuration (and refuse the suite's own).
func processEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PFORTE_") {
			out = append(out, kv)
		}
	}
	return out
}

func runBin(t *testing.T, bin string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pforte %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
