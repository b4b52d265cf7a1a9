package backoffice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pforte/pforte/internal/account"
	"github.com/pforte/pforte/internal/device"
	"github.com/pforte/pforte/internal/server"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/staff"
	"github.com/pforte/pforte/internal/store"
)

// maxFound bounds the persons one search by name and birth date shows.
const maxFound = 20

// searchData is the search page's data.
type searchData struct {
	KVNR, Name, BirthDate string
	Searched              bool
	Found                 []store.Person
	More                  bool // more persons matched than are shown
}

// search finds persons by KVNR, or by family name and birth date. Every
// search is recorded (without what was searched for: no KVNR or name goes
// into the audit trail).
func (b *personPages) search(rw http.ResponseWriter, r *http.Request, s current) error {
	q := r.URL.Query()
	d := searchData{KVNR: strings.ToUpper(strings.TrimSpace(q.Get("kvnr"))), Name: strings.TrimSpace(q.Get("name")),
		BirthDate: strings.TrimSpace(q.Get("geburtsdatum"))}
	v := view{Title: "Person suchen", Staff: &s.Member, Data: &d}
	if d.KVNR == "" && d.Name == "" && d.BirthDate == "" {
		return b.render(rw, http.StatusOK, "search", v)
	}
	d.Searched = true
	by := "kvnr"
	switch {
	case d.KVNR != "":
		if !kvnrShape(d.KVNR) {
			return b.renderBad(rw, "search", v, "Eine KVNR ist ein Buchstabe und neun Ziffern, z. B. A123456780.")
		}
		p, err := b.svc.Reads.PersonByKVNR(r.Context(), d.KVNR)
		if err == nil {
			d.Found = []store.Person{p}
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
	default:
		by = "name"
		date, ok := parseDate(d.BirthDate)
		if utf8.RuneCountInString(d.Name) < 2 || utf8.RuneCountInString(d.Name) > 100 || !ok {
			return b.renderBad(rw, "search", v, "Für die Suche nach Namen geben Sie den Familiennamen (mindestens zwei Zeichen) "+
				"und das Geburtsdatum (TT.MM.JJJJ) an.")
		}
		all, err := b.svc.Reads.PersonsByBirthDate(r.Context(), date, 1000)
		if err != nil {
			return err
		}
		for _, p := range all {
			if strings.EqualFold(p.FamilyName, d.Name) || strings.EqualFold(p.BirthName, d.Name) {
				d.Found = append(d.Found, p)
			}
		}
		if len(d.Found) > maxFound {
			d.Found, d.More = d.Found[:maxFound], true
		}
	}
	if err := b.svc.Staff.Act(r.Context(), s.Member, "searched", 0, server.ClientIP(r),
		map[string]any{"by": by, "found": len(d.Found)}); err != nil {
		return err
	}
	return b.render(rw, http.StatusOK, "search", v)
}

// renderBad renders page with status 400 and msg above the form.
func (b *base) renderBad(rw http.ResponseWriter, page string, v view, msg string) error {
	v.Message = &message{Heading: "Eingabe prüfen", Lines: []string{msg}, Alert: true}
	return b.render(rw, http.StatusBadRequest, page, v)
}

// kvnrShape reports a letter followed by nine digits.
func kvnrShape(s string) bool {
	if len(s) != 10 || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for _, c := range []byte(s[1:]) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// parseDate reads TT.MM.JJJJ or JJJJ-MM-TT and returns JJJJ-MM-TT.
func parseDate(s string) (string, bool) {
	for _, layout := range []string{"02.01.2006", "2.1.2006", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Format("2006-01-02"), true
		}
	}
	return "", false
}

// personID reads the {id} of the path; errNoPerson for anything but a
// positive number.
func personID(r *http.Request) (store.PersonID, error) {
	n, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || n <= 0 {
		return 0, errNoPerson
	}
	return store.PersonID(n), nil
}

// lookup returns the person of the path.
func (b *base) lookup(ctx context.Context, r *http.Request) (store.Person, error) {
	id, err := personID(r)
	if err != nil {
		return store.Person{}, err
	}
	p, err := b.svc.Reads.PersonByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Person{}, errNoPerson
	}
	return p, err
}

// personData is the person view's data.
type personData struct {
	Person      store.Person
	HasAccount  bool
	Account     store.Account
	Lock        account.LockState
	Locked      bool
	StaffLock   store.PersonLock // the staff lock of the access, if StaffLocked
	StaffLocked bool
	Sessions    []store.Session
	Devices     []store.Device
	Letters     []store.Letter
	Approvals   []store.Approval
	Mail        []store.MailThread // the newest threads of the inbox
	Requests    []staff.Request
	Audit       []auditRow
	NotMe       []notMeReport // "that was not me" reports, open ones first
	StaffHidden bool          // the role does not see staff acts
	Methods     []option
	Can         map[string]bool // the acts the role may do
}

// option is a choice of a select.
type option struct{ Value, Label string }

// identityChecks are the ways a person's identity is checked before a PIN
// lock is reset; the one chosen is recorded.
var identityChecks = []option{
	{"ausweis", "Ausweisdokument vor Ort geprüft"},
	{"rueckruf", "Rückruf unter der im Bestand hinterlegten Rufnummer"},
	{"eid", "Online-Ausweis (eID) in der Geschäftsstelle"},
}

func checkMethod(v string) (string, bool) {
	for _, o := range identityChecks {
		if o.Value == v {
			return v, true
		}
	}
	return "", false
}

// person shows everything about a person's access; the view is recorded.
func (b *personPages) person(rw http.ResponseWriter, r *http.Request, s current) error {
	ctx := r.Context()
	p, err := b.lookup(ctx, r)
	if err != nil {
		return err
	}
	now := b.cfg.Now()
	d := personData{Person: p, Methods: identityChecks, Can: map[string]bool{}}
	for name, perm := range map[string]staff.Permission{"sessions": staff.PermSessionsEnd, "unlock": staff.PermAccountUnlock,
		"revoke": staff.PermDeviceRevoke, "pin": staff.PermPINReset, "letter": staff.PermLetterOrder, "review": staff.PermLetterReview,
		"lock": staff.PermAccessLock, "release": staff.PermAccessRelease, "returned": staff.PermLetterReturned} {
		d.Can[name] = staff.Allowed(s.Role, perm)
	}
	d.Account, err = b.svc.Reads.AccountByPerson(ctx, p.ID)
	d.HasAccount = err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if d.Lock, err = b.svc.Accounts.LockState(ctx, p.ID); err != nil {
		return err
	}
	d.Locked = d.Lock.LockedUntil.After(now)
	if d.StaffLock, d.StaffLocked, err = b.svc.Accounts.StaffLock(ctx, p.ID); err != nil {
		return err
	}
	if d.Sessions, err = b.svc.Reads.PersonSessions(ctx, p.ID, now); err != nil {
		return err
	}
	if d.Devices, err = b.svc.Reads.PersonDevices(ctx, p.ID); err != nil {
		return err
	}
	if d.Letters, err = b.svc.Reads.PersonLetters(ctx, p.ID); err != nil {
		return err
	}
	if d.Approvals, err = b.svc.Reads.PendingApprovals(ctx, p.ID, now); err != nil {
		return err
	}
	if d.Mail, err = b.svc.Reads.MailThreads(ctx, p.ID, store.MailThreadQuery{Limit: 20}); err != nil {
		return err
	}
	if d.Requests, err = b.svc.Staff.Pending(ctx, p.ID); err != nil {
		return err
	}
	f := store.AuditFilter{Subject: p.ID.Ref()}
	if !staff.Allowed(s.Role, staff.PermStaffEntries) {
		f.ExcludeActorPrefix, d.StaffHidden = "staff:", true
	}
	entries, err := b.svc.Reads.SearchAudit(ctx, f, 50)
	if err != nil {
		return err
	}
	d.Audit = auditRows(entries)
	if d.NotMe, err = b.notMeReports(ctx, p.ID); err != nil {
		return err
	}
	d.Can["notme"] = staff.Allowed(s.Role, staff.PermNotMe)
	if err := b.svc.Staff.Act(ctx, s.Member, "person_viewed", p.ID, server.ClientIP(r), nil); err != nil {
		return err
	}
	return b.render(rw, http.StatusOK, "person", view{Title: "Person " + p.KVNR, Staff: &s.Member, Notice: doneNotice(r), Data: d})
}

// done are the lines the person view shows after an act (?erledigt=…).
var done = map[string]string{
	"sitzungen":      "Alle Sitzungen der Person sind beendet.",
	"entsperrt":      "Die Sperre der Anmeldung mit Passwort ist aufgehoben.",
	"gesperrt":       "Der Zugang ist gesperrt; alle Sitzungen der Person sind beendet. Jede Anmeldung scheitert, bis die Sperre aufgehoben wird.",
	"freigeschaltet": "Die Zugangssperre ist aufgehoben; die Person kann sich wieder anmelden.",
	"zurueck":        "Der Brief ist als zurückgekommen vermerkt; seine Codes gelten nicht mehr. Bitte prüfen Sie die Anschrift, bevor Sie einen neuen Brief bestellen.",
	"entfernt":       "Das Gerät ist entfernt; die Person bekommt darüber einen Hinweisbrief.",
	"pin":            "Die PIN-Sperre ist aufgehoben; die Person kann ihre Freigabe-PIN wieder eingeben.",
	"brief":          "Der Aktivierungsbrief ist bestellt und geht mit dem nächsten Druckauftrag hinaus.",
	"briefpruef":     "Der Aktivierungsbrief ist bestellt; er wartet auf die Prüfung der Anschrift unter „Briefe prüfen“.",
	"antrag":         "Der Antrag wartet auf die Bestätigung durch eine zweite Person (Vier-Augen-Prinzip).",
}

func doneNotice(r *http.Request) string { return done[r.URL.Query().Get("erledigt")] }

// actForm reads a POSTed act's reason (required).
func actForm(r *http.Request) (string, error) {
	if err := r.ParseForm(); err != nil {
		return "", badInput("Das Formular ließ sich nicht lesen.")
	}
	return staff.CheckReason(r.PostForm.Get("grund"))
}

func personURL(id store.PersonID, what string) string {
	return fmt.Sprintf("/backoffice/personen/%d?erledigt=%s", id, what)
}

// endSessions ends every session of the person (a stolen password, "that
// was not me").
func (b *personPages) endSessions(rw http.ResponseWriter, r *http.Request, s current) error {
	p, err := b.lookup(r.Context(), r)
	if err != nil {
		return err
	}
	reason, err := actForm(r)
	if err != nil {
		return err
	}
	n, err := b.svc.Sessions.EndOthers(r.Context(), p.ID, "", session.EndedByStaff)
	if err != nil {
		return err
	}
	if err := b.svc.Staff.Act(r.Context(), s.Member, "sessions_ended", p.ID, server.ClientIP(r),
		map[string]any{"reason": reason, "sessions": n}); err != nil {
		return err
	}
	return redirect(rw, r, personURL(p.ID, "sitzungen"))
}

// unlockAccount ends a temporary lock of the password login.
func (b *personPages) unlockAccount(rw http.ResponseWriter, r *http.Request, s current) error {
	p, err := b.lookup(r.Context(), r)
	if err != nil {
		return err
	}
	reason, err := actForm(r)
	if err != nil {
		return err
	}
	if err := b.svc.Accounts.Unlock(r.Context(), p.ID, s.ID.Ref(), server.ClientIP(r)); err != nil {
		return err
	}
	if err := b.svc.Staff.Act(r.Context(), s.Member, "account_unlocked", p.ID, server.ClientIP(r), map[string]any{"reason": reason}); err != nil {
		return err
	}
	return redirect(rw, r, personURL(p.ID, "entsperrt"))
}

// deviceID reads the {dev} of the path.
func deviceID(r *http.Request) (store.DeviceID, error) {
	v := r.PathValue("dev")
	if v == "" || len(v) > 100 {
		return "", badInput("Dieses Gerät gibt es nicht.")
	}
	return store.DeviceID(v), nil
}

// revokeDevice removes a bound phone at once.
func (b *personPages) revokeDevice(rw http.ResponseWriter, r *http.Request, s current) error {
	p, err := b.lookup(r.Context(), r)
	if err != nil {
		return err
	}
	dev, err := deviceID(r)
	if err != nil {
		return err
	}
	reason, err := actForm(r)
	if err != nil {
		return err
	}
	if err := b.svc.Devices.Revoke(r.Context(), p.ID, dev, s.ID.Ref(), server.ClientIP(r)); err != nil {
		return err
	}
	if err := b.svc.Staff.Act(r.Context(), s.Member, "device_revoked", p.ID, server.ClientIP(r),
		map[string]any{"reason": reason, "device": string(dev)}); err != nil {
		return err
	}
	return redirect(rw, r, personURL(p.ID, "entfernt"))
}

// resetPIN resets a locked PIN after the identity check named in the form;
// under the four-eyes rule it asks a second staff member instead.
func (b *personPages) resetPIN(rw http.ResponseWriter, r *http.Request, s current) error {
	p, err := b.lookup(r.Context(), r)
	if err != nil {
		return err
	}
	dev, err := deviceID(r)
	if err != nil {
		return err
	}
	reason, err := actForm(r)
	if err != nil {
		return err
	}
	method, ok := checkMethod(r.PostForm.Get("pruefung"))
	if !ok {
		return badInput("Bitte wählen Sie, wie Sie die Identität der Person geprüft haben. Es wurde nichts geändert.")
	}
	if b.cfg.FourEyes.PINReset {
		if err := b.checkPINLocked(r.Context(), p.ID, dev); err != nil {
			return err
		}
		if _, err := b.svc.Staff.Ask(r.Context(), s.Member, kindPINReset, p.ID, string(dev), reason, method, server.ClientIP(r)); err != nil {
			return err
		}
		return redirect(rw, r, personURL(p.ID, "antrag"))
	}
	if err := b.carryPINReset(r, s.Member, p.ID, dev, reason, method); err != nil {
		return err
	}
	return redirect(rw, r, personURL(p.ID, "pin"))
}

// checkPINLocked refuses a request for a device that is not the person's
// or whose PIN is not locked, before anyone is asked to confirm it.
func (b *base) checkPINLocked(ctx context.Context, person store.PersonID, dev store.DeviceID) error {
	list, err := b.svc.Reads.PersonDevices(ctx, person)
	if err != nil {
		return err
	}
	for _, d := range list {
		if d.ID == dev {
			if d.PINLockedAt.IsZero() {
				return device.ErrPINNotLocked
			}
			return nil
		}
	}
	return device.ErrNotFound
}

// carryPINReset resets the PIN lock and records the act with the identity
// check.
func (b *base) carryPINReset(r *http.Request, m staff.Member, person store.PersonID, dev store.DeviceID, reason, method string) error {
	if err := b.svc.Devices.ResetPINLock(r.Context(), person, dev, m.ID.Ref(), server.ClientIP(r)); err != nil {
		return err
	}
	return b.svc.Staff.Act(r.Context(), m, "pin_lock_reset", person, server.ClientIP(r),
		map[string]any{"reason": reason, "device": string(dev), "identity_check": method})
}

// orderLetter orders a new activation letter within the letter limits.
func (b *personPages) orderLetter(rw http.ResponseWriter, r *http.Request, s current) error {
	p, err := b.lookup(r.Context(), r)
	if err != nil {
		return err
	}
	reason, err := actForm(r)
	if err != nil {
		return err
	}
	inReview, err := b.svc.Letters.OrderActivationLetter(r.Context(), p.ID, server.ClientIP(r), "")
	if err != nil {
		return err
	}
	if err := b.svc.Staff.Act(r.Context(), s.Member, "letter_ordered", p.ID, server.ClientIP(r),
		map[string]any{"reason": reason, "in_review": inReview}); err != nil {
		return err
	}
	if inReview {
		return redirect(rw, r, personURL(p.ID, "briefpruef"))
	}
	return redirect(rw, r, personURL(p.ID, "brief"))
}

// notMeReport is a person's "that was not me" answer to an approval request
// on their phone (audit event approval.not_me), and whether staff answered
// it.
type notMeReport struct {
	Seq      int64
	Time     time.Time
	Details  string
	Answered bool
}

// notMeReports are the person's reports of the last entries, with whether
// a staff.not_me_answered entry names each.
func (b *base) notMeReports(ctx context.Context, id store.PersonID) ([]notMeReport, error) {
	reports, err := b.svc.Reads.SearchAudit(ctx, store.AuditFilter{Subject: id.Ref(), Event: "approval.not_me"}, 50)
	if err != nil || len(reports) == 0 {
		return nil, err
	}
	answers, err := b.svc.Reads.SearchAudit(ctx, store.AuditFilter{Subject: id.Ref(), Event: "staff.not_me_answered"}, 200)
	if err != nil {
		return nil, err
	}
	answered := map[string]bool{}
	for _, a := range answers {
		var d struct {
			Report int64 `json:"report"`
		}
		if json.Unmarshal(a.Details, &d) == nil {
			answered[strconv.FormatInt(d.Report, 10)] = true
		}
	}
	var open, done []notMeReport
	for _, e := range reports {
		r := notMeReport{Seq: e.Seq, Time: e.Time, Details: string(e.Details), Answered: answered[strconv.FormatInt(e.Seq, 10)]}
		if r.Answered {
			done = append(done, r)
		} else {
			open = append(open, r)
		}
	}
	return append(open, done...), nil
}

// answerNotMe records that staff answered a "that was not me" report (the
// person was called back, their phone or password secured) with what was
// done.
func (b *personPages) answerNotMe(rw http.ResponseWriter, r *http.Request, s current) error {
	p, err := b.lookup(r.Context(), r)
	if err != nil {
		return err
	}
	reason, err := actForm(r)
	if err != nil {
		return err
	}
	seq, err := strconv.ParseInt(r.PathValue("seq"), 10, 64)
	if err != nil || seq <= 0 {
		return errNoReport
	}
	reports, err := b.notMeReports(r.Context(), p.ID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(reports, func(x notMeReport) bool { return x.Seq == seq })
	if i < 0 {
		return errNoReport
	}
	if reports[i].Answered {
		return errAnswered
	}
	if err := b.svc.Staff.Act(r.Context(), s.Member, "not_me_answered", p.ID, server.ClientIP(r),
		map[string]any{"report": seq, "reason": reason}); err != nil {
		return err
	}
	return redirect(rw, r, personURL(p.ID, "nichtich"))
}
