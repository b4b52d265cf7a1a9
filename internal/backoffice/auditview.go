package backoffice

import (
	"encoding/csv"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/server"
	"github.com/pforte/pforte/internal/staff"
	"github.com/pforte/pforte/internal/store"
)

// auditPage is how many entries the audit view shows at once; csvMax how
// many one export holds.
const (
	auditPage = 100
	csvMax    = 50000
)

// auditRow is one audit entry as the pages show it.
type auditRow struct {
	Seq      int64
	Time     time.Time
	Actor    string
	Event    string
	Subject  string
	ClientIP string
	Details  string
}

func auditRows(entries []store.AuditEntry) []auditRow {
	out := make([]auditRow, 0, len(entries))
	for _, e := range entries {
		out = append(out, auditRow{Seq: e.Seq, Time: e.Time, Actor: e.Actor, Event: e.Event, Subject: e.Subject, ClientIP: e.ClientIP,
			Details: string(e.Details)})
	}
	return out
}

// auditQuery is the audit view's filter form as typed.
type auditQuery struct {
	KVNR, Staff, Event, From, To string
}

// auditData is the audit view's data.
type auditData struct {
	Q       auditQuery
	Rows    []auditRow
	Older   string // the link to older entries, if any
	CSV     string // the export link with the same filter, if the role may export
	Verify  *verifyResult
	Checked bool
}

// verifyResult is what audit verify found, for the page.
type verifyResult struct {
	OK      bool
	Entries int64
	Head    string
	Broken  string
}

// filter turns the query into a store filter: a KVNR into the person, a
// staff login into the staff member, dates (TT.MM.JJJJ, German time) into
// instants. An unknown person or login matches nothing.
func (b *auditPages) filter(r *http.Request) (auditQuery, store.AuditFilter, bool, error) {
	v := r.URL.Query()
	q := auditQuery{KVNR: strings.ToUpper(strings.TrimSpace(v.Get("kvnr"))), Staff: strings.ToLower(strings.TrimSpace(v.Get("mitarbeiter"))),
		Event: strings.TrimSpace(v.Get("ereignis")), From: strings.TrimSpace(v.Get("von")), To: strings.TrimSpace(v.Get("bis"))}
	var f store.AuditFilter
	none := false
	if q.KVNR != "" {
		if !kvnrShape(q.KVNR) {
			return q, f, false, badInput("Eine KVNR ist ein Buchstabe und neun Ziffern, z. B. A123456780.")
		}
		p, err := b.svc.Reads.PersonByKVNR(r.Context(), q.KVNR)
		switch {
		case errors.Is(err, store.ErrNotFound):
			none = true
		case err != nil:
			return q, f, false, err
		default:
			f.Subject = p.ID.Ref()
		}
	}
	if q.Staff != "" {
		if len(q.Staff) > 64 {
			return q, f, false, badInput("Diese Kennung ist zu lang.")
		}
		m, err := b.svc.Reads.StaffByLogin(r.Context(), q.Staff)
		switch {
		case errors.Is(err, store.ErrNotFound):
			none = true
		case err != nil:
			return q, f, false, err
		default:
			f.Actor = m.ID.Ref()
		}
	}
	if q.Event != "" {
		if len(q.Event) > 64 || strings.ContainsAny(q.Event, " \t\r\n") {
			return q, f, false, badInput("Ein Ereignis heißt z. B. staff.device_revoked, oder staff. für alle, die so beginnen.")
		}
		f.Event = q.Event
	}
	for _, d := range []struct {
		text string
		to   *time.Time
		end  bool
	}{{q.From, &f.From, false}, {q.To, &f.To, true}} {
		if d.text == "" {
			continue
		}
		day, ok := parseDate(d.text)
		if !ok {
			return q, f, false, badInput("Ein Datum schreiben Sie TT.MM.JJJJ, z. B. 05.12.2026.")
		}
		t, _ := time.ParseInLocation("2006-01-02", day, lang.Berlin)
		if d.end {
			t = t.AddDate(0, 0, 1) // "bis" includes the whole day
		}
		*d.to = t
	}
	if b, err := strconv.ParseInt(v.Get("vor"), 10, 64); err == nil && b > 0 {
		f.Before = b
	}
	return q, f, none, nil
}

func (q auditQuery) values() url.Values {
	v := url.Values{}
	for k, x := range map[string]string{"kvnr": q.KVNR, "mitarbeiter": q.Staff, "ereignis": q.Event, "von": q.From, "bis": q.To} {
		if x != "" {
			v.Set(k, x)
		}
	}
	return v
}

// auditView shows the audit trail newest first, filtered.
func (b *auditPages) auditView(rw http.ResponseWriter, r *http.Request, s current) error {
	q, f, none, err := b.filter(r)
	d := auditData{Q: q}
	v := view{Title: "Prüfpfad", Staff: &s.Member, Data: &d}
	var in *inputError
	if errors.As(err, &in) {
		return b.renderBad(rw, "audit", v, in.msg)
	}
	if err != nil {
		return err
	}
	return b.showAudit(rw, r, s, v, &d, f, none)
}

func (b *auditPages) showAudit(rw http.ResponseWriter, r *http.Request, s current, v view, d *auditData, f store.AuditFilter, none bool) error {
	if !none {
		entries, err := b.svc.Reads.SearchAudit(r.Context(), f, auditPage+1)
		if err != nil {
			return err
		}
		if len(entries) > auditPage {
			entries = entries[:auditPage]
			older := d.Q.values()
			older.Set("vor", strconv.FormatInt(entries[len(entries)-1].Seq, 10))
			d.Older = "/backoffice/protokoll?" + older.Encode()
		}
		d.Rows = auditRows(entries)
	}
	if staff.Allowed(s.Role, staff.PermAuditExport) {
		d.CSV = "/backoffice/protokoll.csv?" + d.Q.values().Encode()
	}
	if err := b.svc.Staff.Act(r.Context(), s.Member, "audit_viewed", 0, server.ClientIP(r), nil); err != nil {
		return err
	}
	return b.render(rw, http.StatusOK, "audit", v)
}

// auditVerify runs audit verify over the whole trail and shows its result.
func (b *auditPages) auditVerify(rw http.ResponseWriter, r *http.Request, s current) error {
	res, err := b.svc.Verify(r.Context())
	vr := &verifyResult{OK: err == nil, Entries: res.Entries, Head: res.Head}
	var broken *audit.BrokenError
	switch {
	case errors.As(err, &broken):
		vr.Broken = broken.Error()
	case err != nil:
		return err
	}
	if err := b.svc.Staff.Act(r.Context(), s.Member, "audit_verified", 0, server.ClientIP(r),
		map[string]any{"ok": vr.OK, "entries": vr.Entries}); err != nil {
		return err
	}
	d := auditData{Verify: vr, Checked: true}
	return b.showAudit(rw, r, s, view{Title: "Prüfpfad", Staff: &s.Member, Data: &d}, &d, store.AuditFilter{}, false)
}

// auditCSV exports the filtered trail as CSV for the data protection
// officer; the export itself is recorded.
func (b *auditPages) auditCSV(rw http.ResponseWriter, r *http.Request, s current) error {
	q, f, none, err := b.filter(r)
	if err != nil {
		return err
	}
	var entries []store.AuditEntry
	if !none {
		if entries, err = b.svc.Reads.SearchAudit(r.Context(), f, csvMax); err != nil {
			return err
		}
	}
	if err := b.svc.Staff.Act(r.Context(), s.Member, "audit_exported", 0, server.ClientIP(r),
		map[string]any{"rows": len(entries), "filtered": len(q.values()) > 0}); err != nil {
		return err
	}
	rw.Header().Set("Content-Type", "text/csv; charset=utf-8")
	rw.Header().Set("Content-Disposition", `attachment; filename="pruefpfad.csv"`)
	w := csv.NewWriter(rw)
	_ = w.Write([]string{"seq", "zeit", "akteur", "ereignis", "betrifft", "ip", "details"})
	for _, e := range entries {
		_ = w.Write(csvRow(e))
	}
	w.Flush()
	return nil
}

// csvRow is an entry as CSV cells, each safe to open in a spreadsheet.
func csvRow(e store.AuditEntry) []string {
	cells := []string{strconv.FormatInt(e.Seq, 10), e.Time.UTC().Format(time.RFC3339Nano), e.Actor, e.Event, e.Subject, e.ClientIP, string(e.Details)}
	for i, c := range cells {
		cells[i] = csvSafe(c)
	}
	return cells
}

// csvSafe keeps a spreadsheet from reading a cell as a formula (CSV
// injection): a cell starting with = + - @, a tab or a carriage return
// gets a leading apostrophe.
func csvSafe(c string) string {
	if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
		return "'" + c
	}
	return c
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
