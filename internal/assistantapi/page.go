package assistantapi

import (
	"bytes"
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"

	"github.com/pforte/pforte/internal/assistant"
	"github.com/pforte/pforte/internal/server"
)

// PagePath is where the question page lives; the chat panel on every
// portal page is a form posting to it.
const PagePath = "/hilfe/assistent"

//go:embed templates/*.html
var templateFS embed.FS

var pageTemplate = template.Must(template.New("assistent.html").Funcs(template.FuncMap{"confidence": confidenceWords}).
	ParseFS(templateFS, "templates/assistent.html"))

// confidenceWords says in words how well an answer of confidence c (at
// least the assistant's threshold) fits the question.
func confidenceWords(c float64) string {
	switch {
	case c >= 0.75:
		return "Wie gut die Antwort passt: Sie passt sehr wahrscheinlich zu Ihrer Frage."
	case c >= 0.55:
		return "Wie gut die Antwort passt: Sie passt wahrscheinlich zu Ihrer Frage."
	default:
		return "Wie gut die Antwort passt: Sie passt vielleicht nur zum Teil. Fragen Sie gern noch einmal mit anderen Worten."
	}
}

// Page serves the portal's question page: a plain form that works without
// JavaScript.
type Page struct {
	base
	mux *http.ServeMux
}

// NewPage returns the page handlers. sessions may be nil (no one is ever
// logged in), and so may mailbox: then hand-overs name the telephone and
// the hand-over route is not mounted.
func NewPage(cfg Config, a Assistant, sessions Sessions, mailbox Mailbox, logger *slog.Logger) *Page {
	p := &Page{base: newBase(cfg, a, sessions, mailbox, logger)}
	p.cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setPageHeaders(w)
		_ = p.render(w, http.StatusForbidden, view{Problem: "Diese Anfrage kam nicht von einer Seite dieses Portals und wurde deshalb abgelehnt. Bitte öffnen Sie das Portal direkt."})
	}))
	p.mux = newMux(p.Routes())
	return p
}

// view is what the template gets.
type view struct {
	Title    string
	Insurer  string
	Phone    string
	Path     string
	MaxRunes int
	// Asked is the masked question as the assistant kept it; Answer is
	// set after a question.
	Asked  string
	Answer *assistant.Answer
	// Mailbox offers the hand-over by mailbox (a conversation to send).
	Mailbox bool
	// Sent confirms a hand-over; Problem reports a failure.
	Sent    bool
	Problem string
}

func (p *Page) form(w http.ResponseWriter, r *http.Request) error {
	return p.render(w, http.StatusOK, view{})
}

func (p *Page) ask(w http.ResponseWriter, r *http.Request) error {
	if err := p.limited(r); err != nil {
		return err
	}
	f, err := decodeForm(w, r, "frage", "gespraech")
	if err != nil {
		return err
	}
	ans, err := p.assistant.Ask(r.Context(), p.question(r, f["frage"], f["gespraech"]))
	if err != nil {
		return err
	}
	v := view{Asked: ans.Question, Answer: &ans}
	v.Mailbox = ans.Handover != nil && ans.Handover.Channel == assistant.ChannelMailbox && ans.Conversation != ""
	return p.render(w, http.StatusOK, v)
}

func (p *Page) sendHandover(w http.ResponseWriter, r *http.Request) error {
	f, err := decodeForm(w, r, "gespraech")
	if err != nil {
		return err
	}
	if err := p.handover(r, f["gespraech"]); err != nil {
		return err
	}
	return p.render(w, http.StatusOK, view{Sent: true})
}

// render executes the page into a buffer and writes it with status, so a
// template failure never sends half a page.
func (p *Page) render(w http.ResponseWriter, status int, v view) error {
	v.Title, v.Insurer, v.Phone, v.Path, v.MaxRunes = "Fragen an den Assistenten", p.cfg.InsurerName, p.cfg.Phone, PagePath, p.cfg.MaxQuestionRunes
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, v); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
	return nil
}

// pageCSP allows no script, styles from the portal only, forms to the
// portal only.
const pageCSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// handle wraps h with the cross-origin check and the page headers; its
// error goes to fail.
func (p *Page) handle(h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return p.cop.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setPageHeaders(w)
		if err := h(w, r); err != nil {
			p.fail(w, r, err)
		}
	}))
}

func setPageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}

// fail shows the page with what went wrong; unexpected errors are logged
// once (without the question) and shown without detail.
func (p *Page) fail(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		return
	}
	f := failureOf(err)
	if f.internal {
		p.logger.ErrorContext(r.Context(), "assistant page failed", server.RequestIDAttr(r.Context()), slog.Any("error", err))
	}
	var limited *rateLimited
	if errors.As(err, &limited) {
		retryAfter(w, limited.wait)
	}
	if rerr := p.render(w, f.status, view{Problem: f.msg}); rerr != nil {
		p.logger.ErrorContext(r.Context(), "assistant page failed", server.RequestIDAttr(r.Context()), slog.Any("error", rerr))
		http.Error(w, "Ein interner Fehler ist aufgetreten.", http.StatusInternalServerError)
	}
}
