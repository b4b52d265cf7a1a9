package main

import (
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/config"
	"github.com/pforte/pforte/internal/notice"
	"github.com/pforte/pforte/internal/store"
)

// TestLettersExportKilled kills `pforte letters export` processes with
// SIGKILL at growing moments of their run (from before the database is open
// to after the batch is named), then lets runs finish on the same folder:
// every queued letter ends up in exactly one complete batch (PDF and
// manifest), none is lost with its secrets wiped, none is printed twice, and
// no unfinished file is left. It prints how many batches later runs
// completed and how many unfinished ones they removed.
func TestLettersExportKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "pforte")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	c := newCLI(t)
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "p.db")
	if code, _, errOut := c.run("", "migrate", "--database", dsn); code != 0 {
		t.Fatalf("migrate: %d %s", code, errOut)
	}
	const header = "kvnr,family_name,given_names,title,birth_name,birth_date,street,house_number,postal_code,city,address_verified_at,address_verified_by,iban,relation,member_kvnr\n"
	row := "X110411675,Weiß,Jürgen,,,1970-01-02,Hauptstraße,1,10115,Berlin," + time.Now().AddDate(0, -1, 0).Format("2006-01-02") + ",melderegister,,member,\n"
	if code, out, errOut := c.run(header+row, "registry", "import", "--database", dsn, "-"); code != 0 {
		t.Fatalf("import: %d %s %s", code, out, errOut)
	}

	// 120 notices, each owed a letter.
	const letters = 120
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	cf := config.NewFlags(fs)
	if err := fs.Parse([]string{"--database", dsn}); err != nil {
		t.Fatal(err)
	}
	cfg, err := cf.Load(c.environ, config.Needs{Keys: true, Audit: true})
	if err != nil {
		t.Fatal(err)
	}
	st, err := openStore(t.Context(), cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n, err := buildNode(t.Context(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), st)
	if err != nil {
		t.Fatal(err)
	}
	p, err := st.PersonByKVNR(t.Context(), "X110411675")
	if err != nil {
		t.Fatal(err)
	}
	for i := range letters {
		if err := n.Letters.DeliverNotice(t.Context(), notice.Delivery{ID: fmt.Sprintf("ntc_%03d", i), Person: p,
			Kind: notice.PasswordChanged, Count: 1, Details: notice.Details{At: time.Now()}}); err != nil {
			t.Fatal(err)
		}
	}
	if q, err := st.LettersByStatus(t.Context(), store.LetterQueued, 1000); err != nil || len(q) != letters {
		t.Fatalf("%d letters queued (%v), want %d", len(q), err, letters)
	}

	out := filepath.Join(t.TempDir(), "batches")
	export := func(max string) *exec.Cmd {
		cmd := exec.Command(bin, "letters", "export", "--out", out, "--max", max, "--database", dsn)
		cmd.Env = append(os.Environ(), c.environ...)
		return cmd
	}
	completedRe := regexp.MustCompile(`(?m)^batch \S+: completed`)
	discardedRe := regexp.MustCompile(`removed the unfinished files of (\d+)`)
	var completed, discarded, killed int
	windows := map[string]int{}
	count := func(text string) {
		completed += len(completedRe.FindAllString(text, -1))
		if m := discardedRe.FindStringSubmatch(text); m != nil {
			k, _ := strconv.Atoi(m[1])
			discarded += k
		}
	}
	// Two runs are killed early (starting, opening the database); the
	// others once their unfinished files appear, after a growing pause, so
	// that kills land while rendering, around the hand-over and around the
	// renames.
	parts := func() bool {
		entries, _ := os.ReadDir(out)
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".part") {
				return true
			}
		}
		return false
	}
	for i, pause := range []time.Duration{0, 50, 0, 5, 20, 50, 100, 170, 260} {
		cmd := export("15")
		var stdout strings.Builder
		cmd.Stdout = &stdout
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if i >= 2 {
			for deadline := time.Now().Add(30 * time.Second); !parts() && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
			}
		}
		time.Sleep(pause * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err == nil {
			killed++
		}
		_ = cmd.Wait()
		count(stdout.String())
		// Where did the kill land? Unfinished files of a batch the store
		// holds as handed over: after the commit point, before the names.
		entries, _ := os.ReadDir(out)
		handed, err := st.LettersByStatus(t.Context(), store.LetterHandedOver, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			batch, ok := strings.CutSuffix(strings.TrimPrefix(e.Name(), "."), ".csv.part")
			if !ok {
				continue
			}
			window := "before the hand-over"
			for _, l := range handed {
				if l.BatchID == batch {
					window = "after the hand-over, before the names"
				}
			}
			windows[window]++
		}
	}
	for range letters {
		res, err := export("60").Output()
		if err != nil {
			t.Fatalf("export: %v\n%s", err, res)
		}
		count(string(res))
		if strings.Contains(string(res), "no queued letters") {
			break
		}
	}
	t.Logf("%d runs killed; unfinished batches left: %d before the hand-over, %d after it and before the names; "+
		"the runs that finished reported %d completed and %d removed", killed, windows["before the hand-over"],
		windows["after the hand-over, before the names"], completed, discarded)

	seen := map[string]string{}
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".part") {
			t.Errorf("unfinished file left: %s", e.Name())
		}
		batch, ok := strings.CutSuffix(e.Name(), ".csv")
		if !ok || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if _, err := os.Stat(filepath.Join(out, batch+".pdf")); err != nil {
			t.Errorf("batch %s: manifest without PDF", batch)
		}
		f, err := os.Open(filepath.Join(out, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows[1:] {
			if other, dup := seen[r[0]]; dup {
				t.Errorf("letter %s printed twice: batches %s and %s", r[0], other, batch)
			}
			seen[r[0]] = batch
		}
	}
	handed, err := st.LettersByStatus(t.Context(), store.LetterHandedOver, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range handed {
		if seen[l.ID] != l.BatchID {
			t.Errorf("letter %s handed over in batch %s is in the folder's batch %q: lost", l.ID, l.BatchID, seen[l.ID])
		}
	}
	if len(handed) != letters || len(seen) != letters {
		t.Errorf("%d letters handed over, %d in batch files; want %d each", len(handed), len(seen), letters)
	}
}
