package backoffice_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/pforte/pforte/internal/staff"
	"github.com/pforte/pforte/internal/store"
)

// TestBatchesAndReturnedLetter: the letter batch view lists an exported
// batch with its time, count, exporter and the manifest's checksum; a clerk
// records on the person view that a handed-over letter came back, which
// voids its codes, asks for the address to be checked, lists the letter
// as returned and is recorded with the reason. A letter that was not handed
// over cannot come back.
func TestBatchesAndReturnedLetter(t *testing.T) {
	n := start(t)
	in := n.Insure(t, 1)
	p := in.Person
	clerk := loginStaff(t, n, "anna", staff.RoleClerk)
	view := fmt.Sprintf("/backoffice/personen/%d", p.ID)
	if code, _ := clerk.do(t, n, "POST", view+"/aktivierungsbrief", url.Values{"grund": {"neues Telefon"}}); code != http.StatusSeeOther {
		t.Fatalf("order a letter: %d", code)
	}
	letters, err := n.Store.PersonLetters(t.Context(), p.ID)
	if err != nil || len(letters) == 0 {
		t.Fatalf("letters: %+v, %v", letters, err)
	}
	id := letters[0].ID
	if letters[0].Status == store.LetterReview {
		// The register's address is not verified: release it.
		if code, _ := clerk.do(t, n, "POST", "/backoffice/briefe/"+id+"/freigeben", url.Values{"grund": {"Anschrift am Telefon bestätigt"}}); code != http.StatusSeeOther {
			t.Fatalf("release: %d", code)
		}
	}
	returned := view + "/briefe/" + id + "/zurueck"
	if code, body := clerk.do(t, n, "POST", returned, url.Values{"grund": {"Umschlag zurück"}}); code != http.StatusConflict || !strings.Contains(body, "nicht versandt") {
		t.Errorf("a queued letter coming back: %d", code)
	}
	var pdf, manifest bytes.Buffer
	batch, err := n.Node.Letters.Export(t.Context(), &pdf, &manifest, 100)
	if err != nil || batch.Letters == 0 {
		t.Fatalf("export: %+v, %v", batch, err)
	}
	sum := sha256.Sum256(manifest.Bytes())
	_, body := clerk.do(t, n, "GET", "/backoffice/versand", nil)
	if !strings.Contains(body, batch.ID) || !strings.Contains(body, hex.EncodeToString(sum[:])) ||
		!strings.Contains(body, "pforte letters export") || !strings.Contains(body, "Kein Brief ist zurückgekommen") {
		t.Errorf("the batch view lacks the batch or its checksum:\n%s", body)
	}
	if code, body := clerk.do(t, n, "POST", returned, url.Values{"grund": {""}}); code != http.StatusBadRequest || !strings.Contains(body, "Begründung") {
		t.Errorf("without a reason: %d", code)
	}
	if code, _ := clerk.do(t, n, "POST", fmt.Sprintf("/backoffice/personen/%d/briefe/%s/zurueck", in.Others[0].ID, id),
		url.Values{"grund": {"Umschlag zurück"}}); code != http.StatusConflict {
		t.Errorf("another person's letter: %d, want 409", code)
	}
	if code, _ := clerk.do(t, n, "POST", returned, url.Values{"grund": {"Umschlag zurück: Empfänger unbekannt"}}); code != http.StatusSeeOther {
		t.Fatalf("returned: %d", code)
	}
	if l, err := n.Store.LetterByID(t.Context(), id); err != nil || l.Status != store.LetterReturned {
		t.Errorf("letter after the act: %+v, %v", l, err)
	}
	if code, _ := clerk.do(t, n, "POST", returned, url.Values{"grund": {"nochmal"}}); code != http.StatusConflict {
		t.Errorf("coming back twice: %d, want 409", code)
	}
	if _, body := clerk.do(t, n, "GET", view, nil); !strings.Contains(body, "kam unzustellbar zurück: Bitte prüfen Sie die Anschrift") {
		t.Error("the person view does not ask for the address to be checked")
	}
	if _, body := clerk.do(t, n, "GET", "/backoffice/versand", nil); !strings.Contains(body, id) || !strings.Contains(body, "/backoffice/personen/"+fmt.Sprint(p.ID)) {
		t.Error("the batch view does not list the returned letter")
	}
	es := auditOf(t, n, store.AuditFilter{Event: "staff.letter_returned"})
	if len(es) != 1 || es[0].Actor != clerk.ID.Ref() || es[0].Subject != p.ID.Ref() || !strings.Contains(string(es[0].Details), "Empfänger unbekannt") {
		t.Errorf("audit: %+v", es)
	}
	if es := auditOf(t, n, store.AuditFilter{Event: "letter.returned"}); len(es) != 1 {
		t.Errorf("letter.returned entries: %d", len(es))
	}
	auditor := loginStaff(t, n, "paul", staff.RoleAuditor)
	if code, _ := auditor.do(t, n, "GET", "/backoffice/versand", nil); code != http.StatusForbidden {
		t.Errorf("an auditor on the batch view: %d, want 403", code)
	}
}
