package backoffice

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/pforte/pforte/internal/server"
	"github.com/pforte/pforte/internal/store"
)

// The letter batch view (Versand): the export history, one row per batch
// handed over to the print service (from the audit trail's
// letter.batch_handed_over entries, which `pforte letters export` writes),
// and the letters that came back undeliverable. A returned letter's codes
// are void; its person needs their address checked before a new letter
// goes out.

// maxBatches and maxReturned bound what the view lists.
const (
	maxBatches  = 100
	maxReturned = 200
)

// batchRow is one exported batch.
type batchRow struct {
	ID             string
	Time           time.Time
	Letters, Pages int
	By             string // who exported it
	ManifestSHA256 string // empty for batches exported before it was recorded
}

// returnedRow is one letter that came back.
type returnedRow struct {
	store.Letter
	Person store.Person
}

// batchesData is the view's data.
type batchesData struct {
	Batches  []batchRow
	Returned []returnedRow
}

func (b *reviewPages) batches(rw http.ResponseWriter, r *http.Request, s current) error {
	ctx := r.Context()
	entries, err := b.svc.Reads.SearchAudit(ctx, store.AuditFilter{Event: "letter.batch_handed_over"}, maxBatches)
	if err != nil {
		return err
	}
	d := batchesData{}
	for _, e := range entries {
		var det struct {
			Letters  int    `json:"letters"`
			Pages    int    `json:"pages"`
			Manifest string `json:"manifest_sha256"`
		}
		if err := json.Unmarshal(e.Details, &det); err != nil {
			return err
		}
		by := e.Actor
		if by == "system" {
			by = "Befehl „pforte letters export“"
		}
		d.Batches = append(d.Batches, batchRow{ID: strings.TrimPrefix(e.Subject, "batch:"), Time: e.Time, Letters: det.Letters,
			Pages: det.Pages, By: by, ManifestSHA256: det.Manifest})
	}
	returned, err := b.svc.Reads.LettersByStatus(ctx, store.LetterReturned, maxReturned)
	if err != nil {
		return err
	}
	for _, l := range returned {
		p, err := b.svc.Reads.PersonByID(ctx, l.PersonID)
		if err != nil {
			return err
		}
		d.Returned = append(d.Returned, returnedRow{Letter: l, Person: p})
	}
	if err := b.svc.Staff.Act(ctx, s.Member, "batches_viewed", 0, server.ClientIP(r), nil); err != nil {
		return err
	}
	return b.render(rw, http.StatusOK, "batches", view{Title: "Versand", Staff: &s.Member, Data: d})
}

// errNotHandedOver: the letter of the path is not the person's, or was not
// handed over to the print service (only those can come back).
var errNotHandedOver = errors.New("backoffice: letter not handed over")

// letterReturned records that a letter handed over to the print service
// came back undeliverable: its codes become void, and the person view
// asks for the address to be checked.
func (b *personPages) letterReturned(rw http.ResponseWriter, r *http.Request, s current) error {
	p, err := b.lookup(r.Context(), r)
	if err != nil {
		return err
	}
	reason, err := actForm(r)
	if err != nil {
		return err
	}
	letters, err := b.svc.Reads.PersonLetters(r.Context(), p.ID)
	if err != nil {
		return err
	}
	id := r.PathValue("letter")
	found := false
	for _, l := range letters {
		if l.ID == id && l.Status == store.LetterHandedOver {
			found = true
		}
	}
	if !found {
		return errNotHandedOver
	}
	if err := b.svc.Letters.Returned(r.Context(), id); errors.Is(err, store.ErrConflict) {
		return errNotHandedOver // came back meanwhile
	} else if err != nil {
		return err
	}
	if err := b.svc.Staff.Act(r.Context(), s.Member, "letter_returned", p.ID, server.ClientIP(r),
		map[string]any{"reason": reason, "letter": id}); err != nil {
		return err
	}
	return redirect(rw, r, personURL(p.ID, "zurueck"))
}
