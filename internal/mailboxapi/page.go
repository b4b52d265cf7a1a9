package mailboxapi

import (
	"bytes"
	"embed"
	"errors"
	"html/template"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/mailbox"
	"github.com/pforte/pforte/internal/server"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// PagePath is where the mailbox pages live.
const PagePath = "/postfach"

//go:embed templates/*.html templates/postfach.css
var templateFS embed.FS

// pageTemplates are the templates, parsed once per language with the
// language's catalogue (lang.Language.Funcs).
var pageTemplates = func() map[lang.Language]*template.Template {
	sets := map[lang.Language]*template.Template{}
	for _, l := range lang.All() {
		funcs := template.FuncMap(l.Funcs())
		funcs["size"] = func(n int64) string { return fileSize(l, n) }
		sets[l] = template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html"))
	}
	return sets
}()

// fileSize says n bytes in l: "850 KB", "2,4 MB" ("2.4 MB" in English).
func fileSize(l lang.Language, n int64) string {
	if n < 1<<20 {
		return strconv.FormatInt((n+1023)/1024, 10) + " KB"
	}
	s := strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64)
	if l != lang.English {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s + " MB"
}

// Pages serves the portal's mailbox pages.
type Pages struct {
	base
	mailbox Mailbox
	browser Browser
	cop     *http.CrossOriginProtection
	css     []byte
	mux     *http.ServeMux
}

// NewPages returns the pages.
func NewPages(cfg Config, mb Mailbox, browser Browser, logger *slog.Logger) *Pages {
	css, err := templateFS.ReadFile("templates/postfach.css")
	if err != nil {
		panic(err) // embedded: present at build time
	}
	p := &Pages{base: newBase(cfg, mb.Limits(), logger), mailbox: mb, browser: browser, cop: http.NewCrossOriginProtection(), css: css}
	p.cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setPageHeaders(w)
		p.renderProblem(w, r, http.StatusForbidden, lang.Key("mailbox.page.cross_origin"))
	}))
	p.mux = newMux(p.Routes())
	return p
}

// Routes lists the pages' routes.
func (p *Pages) Routes() map[string]http.Handler {
	return map[string]http.Handler{
		"GET " + PagePath:                    p.page(p.list),
		"GET " + PagePath + "/archiv":        p.page(p.archive),
		"GET " + PagePath + "/suche":         p.page(p.search),
		"GET " + PagePath + "/neu":           p.page(p.writeForm),
		"POST " + PagePath + "/neu":          p.page(p.write),
		"GET " + PagePath + "/{id}":          p.page(p.thread),
		"POST " + PagePath + "/{id}/antwort": p.page(p.reply),
		"POST " + PagePath + "/{id}/archiv":  p.page(p.setArchived),
		"GET " + PagePath + "/anhang/{id}":   p.page(p.attachment),
		"GET " + PagePath + "/static/postfach.css": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/css; charset=utf-8")
			w.Header().Set("Cache-Control", "public, max-age=3600")
			_, _ = w.Write(p.css)
		}),
	}
}

// ServeHTTP serves the pages, for tests.
func (p *Pages) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.mux.ServeHTTP(w, r) }

// pageCSP allows no script, styles and images from the portal only, forms to
// the portal only.
const pageCSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func setPageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}

type pageFunc func(w http.ResponseWriter, r *http.Request, s store.Session) error

// page runs h with the browser's session behind the cross-origin check;
// without a session it leads to the login page.
func (p *Pages) page(h pageFunc) http.Handler {
	return p.cop.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setPageHeaders(w)
		s, ok := p.browser.Session(r)
		if !ok {
			http.Redirect(w, r, "/anmelden", http.StatusSeeOther)
			return
		}
		if s.MustChangePassword {
			http.Redirect(w, r, "/passwort-aendern", http.StatusSeeOther)
			return
		}
		if err := h(w, r, s); err != nil {
			p.fail(w, r, s, err)
		}
	}))
}

// view is what the templates get.
type view struct {
	Title   string
	Insurer string
	Phone   string
	Limits  mailbox.Config
	Problem string
	// ProblemField names the form field the problem concerns, for the
	// link from the error summary.
	ProblemField string
	Links        []link // ways back after a problem
	Notice       string

	Restricted bool // below substantial: only the count
	Unread     int
	Archived   bool
	Threads    []mailbox.Summary
	Next       string
	Query      string
	Hits       []mailbox.Hit
	Searched   bool

	Thread *mailbox.Thread
	// Form keeps what the person typed after a problem.
	Subject, Text string

	// Here is where the language switch returns to (see here).
	Here string
	// German is set on a page in another language: what the insurer
	// wrote is marked lang="de" and said to be in German.
	German bool
}

type link struct{ Href, Label string }

func (p *Pages) render(w http.ResponseWriter, r *http.Request, status int, name string, v view) error {
	l := p.browser.Language(r)
	v.Insurer, v.Phone, v.Limits = p.cfg.InsurerName, p.cfg.Phone, p.limits
	v.Here, v.German = here(r), l != lang.German
	sayNoticeSubjects(l, &v)
	var buf bytes.Buffer
	if err := pageTemplates[l].ExecuteTemplate(&buf, name, v); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
	return nil
}

func (p *Pages) renderProblem(w http.ResponseWriter, r *http.Request, status int, msg lang.Text) {
	l := p.browser.Language(r)
	v := view{Title: l.T("mailbox.page.title"), Problem: msg.In(l),
		Links: []link{{PagePath, l.T("mailbox.page.to_mailbox")}, {"/konto", l.T("mailbox.page.to_account")}}}
	if err := p.render(w, r, status, "problem.html", v); err != nil {
		http.Error(w, l.T("mailbox.page.internal"), http.StatusInternalServerError)
	}
}

// sayNoticeSubjects says the subjects of notice threads, which are the
// subjects of the notices' letters, in l; the notices' texts stay German.
func sayNoticeSubjects(l lang.Language, v *view) {
	for i := range v.Threads {
		if k := v.Threads[i].NoticeKind; k != "" {
			v.Threads[i].Subject = mailbox.NoticeSubject(l, k)
		}
	}
	for i := range v.Hits {
		if k := v.Hits[i].NoticeKind; k != "" {
			v.Hits[i].Subject = mailbox.NoticeSubject(l, k)
		}
	}
	if v.Thread != nil && v.Thread.NoticeKind != "" {
		v.Thread.Subject = mailbox.NoticeSubject(l, v.Thread.NoticeKind)
		v.Title = v.Thread.Subject
	}
}

// here is where the language switch on the page answering r returns to:
// the page itself for a GET, the form for the new message, the thread for
// its reply, the mailbox for any other POST.
func here(r *http.Request) string {
	switch {
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		if u := r.URL.RequestURI(); len(u) <= 512 {
			return u
		}
		return r.URL.Path
	case r.URL.Path == PagePath+"/neu":
		return r.URL.Path
	case strings.HasSuffix(r.URL.Path, "/antwort") && r.PathValue("id") != "":
		return PagePath + "/" + url.PathEscape(r.PathValue("id"))
	}
	return PagePath
}

// fail shows what went wrong with the way back; unexpected errors are
// logged once and shown without detail.
func (p *Pages) fail(w http.ResponseWriter, r *http.Request, s store.Session, err error) {
	if r.Context().Err() != nil {
		return
	}
	var form *formFailed
	if errors.As(err, &form) {
		f := pageFailureOf(form.err, p.limits)
		if !f.internal {
			form.v.Problem, form.v.ProblemField = f.text.In(p.browser.Language(r)), f.field
			if rerr := p.render(w, r, f.status, form.tmpl, form.v); rerr == nil {
				return
			}
		}
		err = form.err
	}
	f := pageFailureOf(err, p.limits)
	if f.internal {
		p.logger.ErrorContext(r.Context(), "mailbox page failed", server.RequestIDAttr(r.Context()), slog.Any("error", err))
	}
	if errors.Is(err, mailbox.ErrLevel) {
		if rerr := p.render(w, r, http.StatusForbidden, "list.html", p.restrictedView(r, s)); rerr == nil {
			return
		}
	}
	var limited *rateLimited
	if errors.As(err, &limited) {
		w.Header().Set("Retry-After", "5")
	}
	p.renderProblem(w, r, f.status, f.text)
}

// formFailed is a form's failure: the form is shown again with what was
// typed and the problem.
type formFailed struct {
	tmpl string
	v    view
	err  error
}

func (e *formFailed) Error() string { return e.err.Error() }
func (e *formFailed) Unwrap() error { return e.err }

// restrictedView is the mailbox of a session below substantial: the count
// and how to confirm the session.
func (p *Pages) restrictedView(r *http.Request, s store.Session) view {
	v := view{Title: p.browser.Language(r).T("mailbox.page.title"), Restricted: true}
	if ov, err := p.mailbox.Overview(r.Context(), s.PersonID, session.LevelLow, mailbox.Query{}); err == nil {
		v.Unread = ov.Unread
	}
	return v
}

func (p *Pages) list(w http.ResponseWriter, r *http.Request, s store.Session) error {
	return p.listing(w, r, s, false)
}

func (p *Pages) archive(w http.ResponseWriter, r *http.Request, s store.Session) error {
	return p.listing(w, r, s, true)
}

func (p *Pages) listing(w http.ResponseWriter, r *http.Request, s store.Session, archived bool) error {
	ov, err := p.mailbox.Overview(r.Context(), s.PersonID, session.Level(s.Level), mailbox.Query{Archived: archived, After: r.URL.Query().Get("weiter")})
	if err != nil {
		return err
	}
	l := p.browser.Language(r)
	if ov.Restricted {
		return p.render(w, r, http.StatusOK, "list.html", view{Title: l.T("mailbox.page.title"), Restricted: true, Unread: ov.Unread})
	}
	title := l.T("mailbox.page.title")
	if archived {
		title = l.T("mailbox.page.title_archive")
	}
	v := view{Title: title, Unread: ov.Unread, Archived: archived, Threads: ov.Threads, Next: ov.Next}
	switch r.URL.Query().Get("hinweis") {
	case "gesendet":
		v.Notice = l.T("mailbox.page.sent")
	case "archiviert":
		v.Notice = l.T("mailbox.page.archived")
	case "zurueck":
		v.Notice = l.T("mailbox.page.restored")
	}
	return p.render(w, r, http.StatusOK, "list.html", v)
}

func (p *Pages) search(w http.ResponseWriter, r *http.Request, s store.Session) error {
	q := r.URL.Query().Get("q")
	v := view{Title: p.browser.Language(r).T("mailbox.page.title_search"), Query: q, Searched: true}
	if err := p.limited(r); err != nil { // a search opens every message
		return &formFailed{"list.html", v, err}
	}
	hits, err := p.mailbox.Search(r.Context(), s.PersonID, session.Level(s.Level), q)
	if err != nil {
		return &formFailed{"list.html", v, err}
	}
	v.Hits = hits
	return p.render(w, r, http.StatusOK, "list.html", v)
}

func (p *Pages) thread(w http.ResponseWriter, r *http.Request, s store.Session) error {
	t, err := p.mailbox.Open(r.Context(), s.PersonID, session.Level(s.Level), r.PathValue("id"))
	if err != nil {
		return err
	}
	v := view{Title: t.Subject, Thread: &t}
	if r.URL.Query().Get("hinweis") == "gesendet" {
		v.Notice = p.browser.Language(r).T("mailbox.page.reply_sent")
	}
	return p.render(w, r, http.StatusOK, "thread.html", v)
}

func (p *Pages) writeForm(w http.ResponseWriter, r *http.Request, s store.Session) error {
	if !mayWrite(s) {
		return mailbox.ErrLevel
	}
	return p.render(w, r, http.StatusOK, "write.html", view{Title: p.browser.Language(r).T("mailbox.page.title_write")})
}

// mayWrite mirrors the mailbox's level rule for the empty form, which
// calls no mailbox method; the mailbox checks again when the form is sent.
func mayWrite(s store.Session) bool {
	return session.Level(s.Level).Rank() >= session.LevelSubstantial.Rank()
}

func (p *Pages) write(w http.ResponseWriter, r *http.Request, s store.Session) error {
	if err := p.limited(r); err != nil {
		return err
	}
	f, err := p.readForm(w, r, "betreff", "text")
	v := view{Title: p.browser.Language(r).T("mailbox.page.title_write"), Subject: f.fields["betreff"], Text: f.fields["text"]}
	if err != nil {
		return &formFailed{"write.html", v, err}
	}
	id, err := p.mailbox.Write(r.Context(), s.PersonID, session.Level(s.Level), f.fields["betreff"], f.fields["text"], f.files)
	if err != nil {
		return &formFailed{"write.html", v, err}
	}
	http.Redirect(w, r, PagePath+"/"+id+"?hinweis=gesendet", http.StatusSeeOther)
	return nil
}

func (p *Pages) reply(w http.ResponseWriter, r *http.Request, s store.Session) error {
	if err := p.limited(r); err != nil {
		return err
	}
	id := r.PathValue("id")
	f, ferr := p.readForm(w, r, "text")
	_, err := p.mailbox.Reply(r.Context(), s.PersonID, session.Level(s.Level), id, f.fields["text"], f.files)
	if ferr != nil {
		err = ferr
	}
	if err != nil {
		if errors.Is(err, mailbox.ErrLevel) || errors.Is(err, mailbox.ErrNotFound) {
			return err
		}
		t, terr := p.mailbox.Open(r.Context(), s.PersonID, session.Level(s.Level), id)
		if terr != nil {
			return terr
		}
		return &formFailed{"thread.html", view{Title: t.Subject, Thread: &t, Text: f.fields["text"]}, err}
	}
	http.Redirect(w, r, PagePath+"/"+id+"?hinweis=gesendet#antwort", http.StatusSeeOther)
	return nil
}

func (p *Pages) setArchived(w http.ResponseWriter, r *http.Request, s store.Session) error {
	f, err := p.readForm(w, r, "archiv")
	if err != nil {
		return err
	}
	archived := f.fields["archiv"] == "ja"
	if err := p.mailbox.Archive(r.Context(), s.PersonID, session.Level(s.Level), r.PathValue("id"), archived); err != nil {
		return err
	}
	if archived {
		http.Redirect(w, r, PagePath+"?hinweis=archiviert", http.StatusSeeOther)
	} else {
		http.Redirect(w, r, PagePath+"?hinweis=zurueck", http.StatusSeeOther)
	}
	return nil
}

func (p *Pages) attachment(w http.ResponseWriter, r *http.Request, s store.Session) error {
	f, err := p.mailbox.Attachment(r.Context(), s.PersonID, session.Level(s.Level), r.PathValue("id"))
	if err != nil {
		return err
	}
	serveFile(w, f)
	return nil
}

// form is a submitted form: its text fields and its files.
type form struct {
	fields map[string]string
	files  []mailbox.Upload
}

// maxField bounds one text field of a form.
const maxField = 200 << 10

// readForm reads an urlencoded or multipart form within the upload limit:
// the named text fields (UTF-8, each at most maxField bytes) and the files
// of the field "anhang" (empty file fields, which browsers send when no
// file was chosen, are skipped). Whatever was read is returned even with
// an error, so the form can be shown again with it.
func (p *Pages) readForm(w http.ResponseWriter, r *http.Request, names ...string) (form, error) {
	f := form{fields: map[string]string{}}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return f, &badRequest{msg: "Bitte senden Sie das Formular dieser Seite ab.", text: lang.Key("mailbox.page.bad_form")}
	}
	limit := BodyLimit(p.limits)
	if r.ContentLength > limit {
		return f, &tooLarge{}
	}
	body := http.MaxBytesReader(w, r.Body, limit)
	wanted := map[string]bool{}
	for _, n := range names {
		wanted[n] = true
	}
	switch mt {
	case "application/x-www-form-urlencoded":
		b, err := io.ReadAll(body)
		if err != nil {
			return f, &tooLarge{}
		}
		vals, err := url.ParseQuery(string(b))
		if err != nil {
			return f, &badRequest{msg: "Das Formular konnte nicht gelesen werden.", text: lang.Key("mailbox.page.unreadable_form")}
		}
		for n := range wanted {
			f.fields[n] = vals.Get(n)
		}
	case "multipart/form-data":
		mr, err := (&http.Request{Header: http.Header{"Content-Type": {r.Header.Get("Content-Type")}}, Body: body}).MultipartReader()
		if err != nil || params["boundary"] == "" {
			return f, &badRequest{msg: "Das Formular konnte nicht gelesen werden.", text: lang.Key("mailbox.page.unreadable_form")}
		}
		for parts := 0; ; parts++ {
			part, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return f, &tooLarge{}
			}
			if err != nil || parts > 50 {
				return f, &badRequest{msg: "Das Formular konnte nicht gelesen werden.", text: lang.Key("mailbox.page.unreadable_form")}
			}
			name := part.FormName()
			switch {
			case name == "anhang" && part.FileName() != "":
				b, err := io.ReadAll(part)
				if err != nil {
					return f, &tooLarge{}
				}
				f.files = append(f.files, mailbox.Upload{Name: part.FileName(), Content: b})
			case name == "anhang":
				_, _ = io.Copy(io.Discard, part)
			case wanted[name]:
				b, err := io.ReadAll(io.LimitReader(part, maxField+1))
				if err != nil || len(b) > maxField {
					return f, &tooLarge{}
				}
				f.fields[name] = string(b)
			default:
				_, _ = io.Copy(io.Discard, part)
			}
		}
	default:
		return f, &badRequest{msg: "Bitte senden Sie das Formular dieser Seite ab.", text: lang.Key("mailbox.page.bad_form")}
	}
	for n, v := range f.fields {
		if !utf8.ValidString(v) {
			f.fields[n] = ""
			return f, &badRequest{msg: "Das Formular ist kein gültiges UTF-8.", text: lang.Key("mailbox.page.bad_utf8")}
		}
	}
	return f, nil
}
