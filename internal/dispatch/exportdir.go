package dispatch

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// ExportToDir hands a batch over as two files in a folder, BATCH.pdf and
// BATCH.csv, such that a crash at any moment (kill -9, a power loss) neither
// loses nor doubles a letter. Marking the letters handed over wipes their
// secrets, so after it the batch's files are the only copy; they must
// exist before, and get their names after:
//
//	lock dir ─▶ complete or discard what an interrupted run left
//	        ─▶ write .BATCH.pdf.part and .BATCH.csv.part, sync them
//	        ─▶ mark the letters handed over (the commit point)
//	        ─▶ rename the parts to BATCH.pdf and BATCH.csv, sync dir
//
// A run interrupted before the commit point left parts whose letters are
// still queued (or went into another batch since): the next run removes
// them and exports the letters again. A run interrupted after it left
// parts of a handed-over batch: the next run gives them their names. So
// every letter is in exactly one complete batch in the folder, provided
// runs use the same folder. Two runs on one folder exclude each other
// with a lock on .export.lock (released by the kernel when a run dies);
// two folders never share a letter, because marking a letter handed over
// twice is refused and the refused run removes its parts.
func (s *Service) ExportToDir(ctx context.Context, dir string, max int) (DirExport, error) {
	return dirExporter{s: s}.export(ctx, dir, max)
}

// ErrExportRunning is returned when another export holds the folder.
var ErrExportRunning = errors.New("dispatch: another export is running in this folder")

// DirExport is what ExportToDir did.
type DirExport struct {
	// Batch is the batch handed over now; zero ID when no letter was queued.
	Batch Batch
	// PDF and Manifest are its files.
	PDF, Manifest string
	// Completed are the batches of an interrupted run that this run gave
	// their names; Discarded counts the interrupted runs' unfinished
	// batches (nothing handed over) whose parts it removed.
	Completed []string
	Discarded int
}

// dirExporter runs the protocol. crashAt, set by tests only, stops it at a
// named step as a kill would: no cleanup, no further step.
type dirExporter struct {
	s       *Service
	crashAt func(step string) bool
}

// errCrashed is what a stop at crashAt returns.
var errCrashed = errors.New("dispatch: export stopped (test crash)")

func (e dirExporter) step(name string) error {
	if e.crashAt != nil && e.crashAt(name) {
		return errCrashed
	}
	return nil
}

// partName matches the unfinished files: .BATCH.pdf.part, .BATCH.csv.part.
var partName = regexp.MustCompile(`^\.(B[A-Za-z0-9_-]+)\.(pdf|csv)\.part$`)

func (e dirExporter) export(ctx context.Context, dir string, max int) (DirExport, error) {
	var out DirExport
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return out, fmt.Errorf("dispatch: export folder: %w", err)
	}
	unlock, err := lockDir(filepath.Join(dir, ".export.lock"))
	if err != nil {
		return out, err
	}
	defer unlock()
	if out.Completed, out.Discarded, err = e.recover(ctx, dir); err != nil {
		return out, err
	}
	if err := e.step("recovered"); err != nil {
		return out, err
	}
	id, err := e.s.NewBatchID()
	if err != nil {
		return out, err
	}
	pdfPart, csvPart := filepath.Join(dir, "."+id+".pdf.part"), filepath.Join(dir, "."+id+".csv.part")
	pdf, err := os.OpenFile(pdfPart, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return out, fmt.Errorf("dispatch: export: %w", err)
	}
	manifest, err := os.OpenFile(csvPart, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		pdf.Close()
		os.Remove(pdfPart)
		return out, fmt.Errorf("dispatch: export: %w", err)
	}
	if err := e.step("created"); err != nil {
		return out, err
	}
	b, err := e.s.ExportAs(ctx, id, pdf, manifest, max)
	cerr := errors.Join(pdf.Close(), manifest.Close())
	if err != nil || b.Letters == 0 {
		// ExportAs marks last, so an error means nothing was handed over;
		// but a commit whose answer was lost (the database's line dropped
		// after COMMIT) did hand the letters over: then the parts are the
		// batch, and the next run names them.
		if handed, herr := e.handedOver(ctx, id, csvPart); err != nil && (herr != nil || handed) {
			return out, err
		}
		os.Remove(pdfPart)
		os.Remove(csvPart)
		return out, err
	}
	out.Batch, out.PDF, out.Manifest = b, filepath.Join(dir, id+".pdf"), filepath.Join(dir, id+".csv")
	if err := e.step("handed-over"); err != nil {
		return out, err
	}
	if cerr != nil {
		// Synced before the commit point; a failing close loses nothing,
		// the next run names the parts.
		return out, fmt.Errorf("dispatch: export: %w", cerr)
	}
	if err := os.Rename(pdfPart, out.PDF); err != nil {
		return out, fmt.Errorf("dispatch: export: %w", err)
	}
	if err := e.step("pdf-named"); err != nil {
		return out, err
	}
	if err := os.Rename(csvPart, out.Manifest); err != nil {
		return out, fmt.Errorf("dispatch: export: %w", err)
	}
	return out, syncDir(dir)
}

// recover completes the batches an interrupted run handed over and removes
// the parts of those it did not.
func (e dirExporter) recover(ctx context.Context, dir string) (completed []string, discarded int, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, 0, fmt.Errorf("dispatch: export folder: %w", err)
	}
	batches := map[string]bool{}
	var order []string
	for _, en := range entries {
		if m := partName.FindStringSubmatch(en.Name()); m != nil && !batches[m[1]] {
			batches[m[1]] = true
			order = append(order, m[1])
		}
	}
	for _, id := range order {
		pdfPart, csvPart := filepath.Join(dir, "."+id+".pdf.part"), filepath.Join(dir, "."+id+".csv.part")
		pdfFinal, csvFinal := filepath.Join(dir, id+".pdf"), filepath.Join(dir, id+".csv")
		manifest := csvPart
		if _, err := os.Stat(csvPart); errors.Is(err, os.ErrNotExist) {
			manifest = csvFinal
		}
		handed, err := e.handedOver(ctx, id, manifest)
		if err != nil {
			return completed, discarded, err
		}
		if !handed {
			for _, p := range []string{pdfPart, csvPart} {
				if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
					return completed, discarded, fmt.Errorf("dispatch: export folder: %w", err)
				}
			}
			discarded++
			continue
		}
		for _, r := range [][2]string{{pdfPart, pdfFinal}, {csvPart, csvFinal}} {
			if err := os.Rename(r[0], r[1]); err != nil && !errors.Is(err, os.ErrNotExist) {
				return completed, discarded, fmt.Errorf("dispatch: export folder: %w", err)
			}
		}
		completed = append(completed, id)
	}
	if len(order) > 0 {
		return completed, discarded, syncDir(dir)
	}
	return completed, discarded, nil
}

// handedOver reports whether the batch of the manifest at path was handed
// over: its first letter carries the batch id. A manifest that cannot be
// read whole was cut off before the commit point.
func (e dirExporter) handedOver(ctx context.Context, batch, path string) (bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("dispatch: export folder: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(io.LimitReader(f, 64<<20))
	rows, err := r.ReadAll()
	if err != nil || len(rows) < 2 || len(rows[0]) == 0 || rows[0][0] != "letter_id" {
		return false, nil
	}
	l, err := e.s.store.LetterByID(ctx, strings.TrimSpace(rows[1][0]))
	if err != nil {
		return false, nil // not a letter of this installation: not ours to name
	}
	return l.BatchID == batch, nil
}

// syncDir makes the renames in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("dispatch: export folder: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("dispatch: export folder: %w", err)
	}
	return nil
}
