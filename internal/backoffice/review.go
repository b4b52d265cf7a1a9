package backoffice

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/pforte/pforte/internal/access"
	"github.com/pforte/pforte/internal/device"
	"github.com/pforte/pforte/internal/dispatch"
	"github.com/pforte/pforte/internal/server"
	"github.com/pforte/pforte/internal/staff"
	"github.com/pforte/pforte/internal/store"
)

// The kinds of four-eyes requests.
const (
	kindPINReset      = "pin.reset"
	kindLetterRelease = "letter.release"
)

// recentAddress is how recent an address change makes a letter's release
// need a second staff member.
const recentAddress = 30 * 24 * time.Hour

// reviewData is the review queue's data.
type reviewData struct {
	Waiting []reviewRow
}

type reviewRow struct {
	dispatch.Waiting
	RecentChange bool // the address changed in the last 30 days
	FourEyes     bool // releasing needs a second staff member
}

func (b *reviewPages) reviewQueue(rw http.ResponseWriter, r *http.Request, s current) error {
	waiting, err := b.svc.Letters.InReview(r.Context(), 200)
	if err != nil {
		return err
	}
	d := reviewData{}
	for _, w := range waiting {
		recent, err := b.addressChangedRecently(r.Context(), w.Person.ID)
		if err != nil {
			return err
		}
		d.Waiting = append(d.Waiting, reviewRow{Waiting: w, RecentChange: recent, FourEyes: recent && b.cfg.FourEyes.RecentAddress})
	}
	return b.render(rw, http.StatusOK, "review", view{Title: "Briefe prüfen", Staff: &s.Member, Notice: reviewNotice(r), Data: d})
}

var reviewDone = map[string]string{
	"freigegeben": "Der Brief ist freigegeben und geht mit dem nächsten Druckauftrag hinaus.",
	"abgelehnt":   "Der Brief ist abgelehnt; seine Codes gelten nicht mehr.",
	"antrag":      "Die Anschrift wurde vor kurzem geändert: Die Freigabe wartet auf die Bestätigung durch eine zweite Person.",
}

func reviewNotice(r *http.Request) string { return reviewDone[r.URL.Query().Get("erledigt")] }

// addressChangedRecently reports an address change of the person in the
// last 30 days: the notice every change owes the old address.
func (b *base) addressChangedRecently(ctx context.Context, id store.PersonID) (bool, error) {
	notices, err := b.svc.Reads.PersonNotices(ctx, id, 100)
	if err != nil {
		return false, err
	}
	since := b.cfg.Now().Add(-recentAddress)
	for _, n := range notices {
		if n.Kind == "address_changed" && n.CreatedAt.After(since) {
			return true, nil
		}
	}
	return false, nil
}

// letterInReview returns the letter of the path if it waits for review.
func (b *reviewPages) letterInReview(ctx context.Context, r *http.Request) (dispatch.Waiting, error) {
	id := r.PathValue("id")
	waiting, err := b.svc.Letters.InReview(ctx, 1000)
	if err != nil {
		return dispatch.Waiting{}, err
	}
	for _, w := range waiting {
		if w.Letter.ID == id {
			return w, nil
		}
	}
	return dispatch.Waiting{}, dispatch.ErrNotInReview
}

// releaseLetter sends a letter in review to the next print batch; to an
// address changed in the last 30 days only with a second staff member.
func (b *reviewPages) releaseLetter(rw http.ResponseWriter, r *http.Request, s current) error {
	reason, err := actForm(r)
	if err != nil {
		return err
	}
	w, err := b.letterInReview(r.Context(), r)
	if err != nil {
		return err
	}
	recent, err := b.addressChangedRecently(r.Context(), w.Person.ID)
	if err != nil {
		return err
	}
	if recent && b.cfg.FourEyes.RecentAddress {
		if _, err := b.svc.Staff.Ask(r.Context(), s.Member, kindLetterRelease, w.Person.ID, w.Letter.ID, reason, "", server.ClientIP(r)); err != nil {
			return err
		}
		return redirect(rw, r, "/backoffice/briefe?erledigt=antrag")
	}
	if err := b.carryRelease(r, s.Member, w.Person.ID, w.Letter.ID, reason); err != nil {
		return err
	}
	return redirect(rw, r, "/backoffice/briefe?erledigt=freigegeben")
}

func (b *base) carryRelease(r *http.Request, m staff.Member, person store.PersonID, letter, reason string) error {
	if err := b.svc.Letters.Release(r.Context(), letter, m.ID.Ref(), reason); err != nil {
		return err
	}
	return b.svc.Staff.Act(r.Context(), m, "letter_released", person, server.ClientIP(r), map[string]any{"reason": reason, "letter": letter})
}

// rejectLetter refuses a letter in review; its codes become void.
func (b *reviewPages) rejectLetter(rw http.ResponseWriter, r *http.Request, s current) error {
	reason, err := actForm(r)
	if err != nil {
		return err
	}
	w, err := b.letterInReview(r.Context(), r)
	if err != nil {
		return err
	}
	if err := b.svc.Letters.Reject(r.Context(), w.Letter.ID, s.ID.Ref(), reason); err != nil {
		return err
	}
	if err := b.svc.Staff.Act(r.Context(), s.Member, "letter_rejected", w.Person.ID, server.ClientIP(r),
		map[string]any{"reason": reason, "letter": w.Letter.ID}); err != nil {
		return err
	}
	return redirect(rw, r, "/backoffice/briefe?erledigt=abgelehnt")
}

// requestsData is the four-eyes page's data.
type requestsData struct {
	Requests []requestRow
}

type requestRow struct {
	staff.Request
	What      string
	AskedBy   string
	Own       bool
	PersonURL string
}

func (b *reviewPages) requests(rw http.ResponseWriter, r *http.Request, s current) error {
	list, err := b.svc.Staff.Pending(r.Context(), 0)
	if err != nil {
		return err
	}
	d := requestsData{}
	for _, q := range list {
		row := requestRow{Request: q, Own: q.RequestedBy == s.ID, PersonURL: "/backoffice/personen/" + itoa(int64(q.PersonID))}
		row.What = map[string]string{kindPINReset: "PIN-Sperre aufheben (Gerät " + q.Target + ")",
			kindLetterRelease: "Brief " + q.Target + " an kürzlich geänderte Anschrift freigeben"}[q.Kind]
		if m, err := b.svc.Reads.StaffByID(r.Context(), q.RequestedBy); err == nil {
			row.AskedBy = m.Name + " (" + m.Login + ")"
		}
		d.Requests = append(d.Requests, row)
	}
	notice := map[string]string{"bestaetigt": "Der Antrag ist bestätigt und ausgeführt.", "abgelehnt": "Der Antrag ist abgelehnt; nichts wurde geändert."}[r.URL.Query().Get("erledigt")]
	return b.render(rw, http.StatusOK, "requests", view{Title: "Vier-Augen-Anträge", Staff: &s.Member, Notice: notice, Data: d})
}

// confirmRequest confirms another staff member's request and carries it
// out; the one who asked cannot (staff.ErrOwnRequest).
func (b *reviewPages) confirmRequest(rw http.ResponseWriter, r *http.Request, s current) error {
	q, err := b.svc.Staff.Decide(r.Context(), s.Member, r.PathValue("id"), true, server.ClientIP(r))
	if err != nil {
		return err
	}
	asker := staff.Member{ID: q.RequestedBy}
	switch q.Kind {
	case kindPINReset:
		err = b.carryPINReset(r, asker, q.PersonID, store.DeviceID(q.Target), q.Reason, q.Method)
	case kindLetterRelease:
		err = b.carryRelease(r, asker, q.PersonID, q.Target, q.Reason)
	default:
		err = errUnknownKind
	}
	if err != nil {
		return b.carryFailed(rw, r, s, q, err)
	}
	return redirect(rw, r, "/backoffice/vier-augen?erledigt=bestaetigt")
}

// errUnknownKind: a request of a kind this version does not carry out.
var errUnknownKind = errors.New("backoffice: unknown four-eyes kind")

// carryFailed answers a confirmed request whose act failed when it was
// carried out (the PIN lock was reset meanwhile, the letter limit reached,
// the letter released by someone else): the request is recorded failed
// with why, and the confirming staff member is told why and what to do.
// An unexpected cause is still recorded failed and then answered 500.
func (b *reviewPages) carryFailed(rw http.ResponseWriter, r *http.Request, s current, q staff.Request, cause error) error {
	a, known := answerFor(cause)
	outcome := "error"
	if known {
		outcome = failureCode(cause)
	}
	if _, err := b.svc.Staff.Fail(r.Context(), s.Member, q, outcome, server.ClientIP(r)); err != nil {
		return errors.Join(cause, err)
	}
	if !known {
		return cause
	}
	return b.render(rw, a.status, "message", view{Title: "Antrag nicht ausgeführt", Staff: &s.Member, Message: &message{
		Heading: "Antrag bestätigt, aber nicht ausgeführt",
		Lines: []string{a.line, "Der Antrag ist als gescheitert vermerkt; es wurde nichts geändert. " +
			"Prüfen Sie die Angaben der Person und stellen Sie bei Bedarf einen neuen Antrag."},
		Links: []link{{"/backoffice/personen/" + itoa(int64(q.PersonID)), "Zur Person"}, {"/backoffice/vier-augen", "Zu den Vier-Augen-Anträgen"}},
		Alert: true}})
}

// failureCode names why a confirmed act failed, for the request's record.
func failureCode(err error) string {
	for _, c := range []struct {
		err  error
		code string
	}{
		{device.ErrPINNotLocked, "pin_not_locked"},
		{device.ErrNotFound, "device_not_found"},
		{dispatch.ErrNotInReview, "letter_not_in_review"},
		{dispatch.ErrExpired, "letter_expired"},
		{access.ErrLetterRefused, "letter_limit"},
		{access.ErrLettersToday, "letters_today"},
		{errUnknownKind, "unknown_kind"},
	} {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return "refused"
}

func (b *reviewPages) declineRequest(rw http.ResponseWriter, r *http.Request, s current) error {
	if _, err := b.svc.Staff.Decide(r.Context(), s.Member, r.PathValue("id"), false, server.ClientIP(r)); err != nil {
		return err
	}
	return redirect(rw, r, "/backoffice/vier-augen?erledigt=abgelehnt")
}
