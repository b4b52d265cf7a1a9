package dispatch_test

import (
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pforte/pforte/internal/dispatch"
	"github.com/pforte/pforte/internal/store"
)

// TestExportToDirSurvivesACrashAtEveryStep stops a batch export at each of
// its steps, as kill -9 would (no cleanup), then lets later runs on the same
// folder finish: every letter is in exactly one complete batch (PDF and
// manifest), every handed-over letter is in one, and no unfinished file is
// left.
func TestExportToDirSurvivesACrashAtEveryStep(t *testing.T) {
	for _, step := range []string{"recovered", "created", "handed-over", "pdf-named"} {
		t.Run(step, func(t *testing.T) {
			d, st, p := setup(t, dispatch.Config{})
			ctx := t.Context()
			const letters = 7
			for i := range letters {
				if err := d.DeliverNotice(ctx, passwordNotice(fmt.Sprintf("ntc_%d", i), p)); err != nil {
					t.Fatal(err)
				}
			}
			dir := t.TempDir()
			// One batch first, so the crash meets a folder with a finished one.
			if _, err := d.ExportToDir(ctx, dir, 3); err != nil {
				t.Fatal(err)
			}
			crashed, err := dispatch.ExportToDirCrashing(ctx, d, dir, 3, func(s string) bool { return s == step })
			if err == nil {
				t.Fatalf("the run did not stop at %s", step)
			}
			var completed []string
			for range letters {
				res, err := d.ExportToDir(ctx, dir, 3)
				if err != nil {
					t.Fatal(err)
				}
				completed = append(completed, res.Completed...)
				if res.Batch.ID == "" {
					break
				}
			}
			if step == "handed-over" || step == "pdf-named" {
				if !slices.Contains(completed, crashed.Batch.ID) {
					t.Errorf("the batch handed over before the crash (%s) was not completed by the next run: %v", crashed.Batch.ID, completed)
				}
			}
			checkFolder(t, st, dir, letters)
		})
	}
}

// checkFolder checks the folder against the store: each handed-over letter
// in exactly one manifest, of the batch the store names, with its PDF; no
// letter still queued; no unfinished file.
func checkFolder(t *testing.T, st store.Store, dir string, want int) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{} // letter id -> batch
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, ".part") {
			t.Errorf("unfinished file left: %s", name)
		}
		batch, ok := strings.CutSuffix(name, ".csv")
		if !ok || strings.HasPrefix(name, ".") {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, batch+".pdf")); err != nil {
			t.Errorf("batch %s has a manifest but no PDF", batch)
		}
		f, err := os.Open(filepath.Join(dir, name))
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
				t.Errorf("letter %s is in batch %s and in batch %s", r[0], other, batch)
			}
			seen[r[0]] = batch
			l, err := st.LetterByID(t.Context(), r[0])
			if err != nil {
				t.Fatal(err)
			}
			if l.Status != store.LetterHandedOver || l.BatchID != batch {
				t.Errorf("letter %s is in the file of batch %s but stored as %s in batch %q", r[0], batch, l.Status, l.BatchID)
			}
		}
	}
	handed, err := st.LettersByStatus(t.Context(), store.LetterHandedOver, 1000)
	if err != nil {
		t.Fatal(err)
	}
	queued, err := st.LettersByStatus(t.Context(), store.LetterQueued, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(queued) != 0 || len(handed) != want || len(seen) != want {
		t.Errorf("%d queued, %d handed over, %d in the folder's batches; want 0, %d, %d", len(queued), len(handed), len(seen), want, want)
	}
	for _, l := range handed {
		if _, ok := seen[l.ID]; !ok {
			t.Errorf("letter %s was handed over in batch %s but is in no batch file: lost", l.ID, l.BatchID)
		}
	}
}

// TestExportToDirOneRunPerFolder: a second run on a folder another holds is
// refused at once and changes nothing.
func TestExportToDirOneRunPerFolder(t *testing.T) {
	d, st, p := setup(t, dispatch.Config{})
	ctx := t.Context()
	if err := d.DeliverNotice(ctx, passwordNotice("ntc_1", p)); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	unlock, err := dispatch.LockDir(filepath.Join(dir, ".export.lock"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.ExportToDir(ctx, dir, 10); !errors.Is(err, dispatch.ErrExportRunning) {
		t.Fatalf("a second run: %v, want ErrExportRunning", err)
	}
	if q, _ := st.LettersByStatus(ctx, store.LetterQueued, 10); len(q) != 1 {
		t.Errorf("the refused run changed the queue: %d queued", len(q))
	}
	unlock()
	if res, err := d.ExportToDir(ctx, dir, 10); err != nil || res.Batch.Letters != 1 {
		t.Fatalf("after the lock was released: %+v %v", res, err)
	}
	checkFolder(t, st, dir, 1)
}
