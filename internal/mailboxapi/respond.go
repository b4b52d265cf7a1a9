package mailboxapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/mailbox"
	"github.com/pforte/pforte/internal/server"
)

// Errors of decoding and limits, each answered with a German message.
type (
	badRequest struct {
		msg  string
		text lang.Text // the message on a page; zero: the page's generic one
	}
	tooLarge    struct{}
	rateLimited struct{ wait time.Duration }
)

func (e *badRequest) Error() string  { return "mailboxapi: bad request: " + e.msg }
func (e *tooLarge) Error() string    { return "mailboxapi: body too large" }
func (e *rateLimited) Error() string { return "mailboxapi: rate limited" }

// failure is what an error means: status, a stable code, a German message
// that reveals nothing, the field it concerns, and whether it is logged.
type failure struct {
	status   int
	code     string
	msg      string
	field    string
	internal bool
}

// Messages shared by the API and the pages.
const (
	msgLevel = "Nachrichten im Postfach sind besonders geschützt. Um sie zu lesen oder zu schreiben, bestätigen Sie Ihre Anmeldung " +
		"bitte mit Ihrem Smartphone (Vertrauensniveau substanziell)."
	msgNotFound = "Diese Nachricht gibt es nicht in Ihrem Postfach. Vielleicht ist der Link alt; öffnen Sie das Postfach neu."
	msgInternal = "Ein interner Fehler ist aufgetreten. Bitte versuchen Sie es später noch einmal."
)

func failureOf(err error, limits mailbox.Config) failure {
	var (
		in      *mailbox.InputError
		bad     *badRequest
		large   *tooLarge
		limited *rateLimited
		mbe     *http.MaxBytesError
	)
	switch {
	case errors.As(err, &in):
		return failure{status: http.StatusBadRequest, code: "invalid_field", msg: in.Msg, field: in.Field}
	case errors.As(err, &bad):
		return failure{status: http.StatusBadRequest, code: "bad_request", msg: bad.msg}
	case errors.As(err, &large), errors.As(err, &mbe):
		return failure{status: http.StatusRequestEntityTooLarge, code: "too_large",
			msg: "Die Nachricht ist zu groß. Anhänge dürfen zusammen höchstens " + megabytes(limits.MaxMessageBytes) +
				" groß sein; bitte verteilen Sie sie auf mehrere Nachrichten."}
	case errors.As(err, &limited):
		return failure{status: http.StatusTooManyRequests, code: "rate_limited",
			msg: "Sie haben in kurzer Zeit sehr viele Nachrichten geschickt. Bitte warten Sie einen Moment."}
	case errors.Is(err, errUnauthenticated):
		return failure{status: http.StatusUnauthorized, code: "unauthenticated", msg: "Bitte melden Sie sich an."}
	case errors.Is(err, errPasswordChangeDue):
		return failure{status: http.StatusForbidden, code: "password_change_required",
			msg: "Bitte legen Sie zuerst ein eigenes Passwort fest."}
	case errors.Is(err, mailbox.ErrLevel):
		return failure{status: http.StatusForbidden, code: "session_level_too_low", msg: msgLevel}
	case errors.Is(err, mailbox.ErrNotFound):
		return failure{status: http.StatusNotFound, code: "not_found", msg: msgNotFound}
	case errors.Is(err, mailbox.ErrUnknownPerson):
		return failure{status: http.StatusNotFound, code: "unknown_person",
			msg: "Zu dieser Versichertennummer gibt es keine versicherte Person.", field: "kvnr"}
	}
	return failure{status: http.StatusInternalServerError, code: "internal", msg: msgInternal, internal: true}
}

// pageFailure is what an error means on a page: failureOf with the
// message from the catalogue, to be said in the page's language.
type pageFailure struct {
	status   int
	text     lang.Text
	field    string
	internal bool
}

// pageFailureOf is failureOf for the pages. An input error of the mailbox
// says its own catalogue text when it has one.
func pageFailureOf(err error, limits mailbox.Config) pageFailure {
	f := failureOf(err, limits)
	pf := pageFailure{status: f.status, field: f.field, internal: f.internal}
	var (
		in  *mailbox.InputError
		bad *badRequest
	)
	switch f.code {
	case "invalid_field":
		if errors.As(err, &in) && !in.Text.IsZero() {
			pf.text = in.Text
		} else {
			pf.text = lang.Key("mailbox.page.bad_form")
		}
	case "bad_request":
		if errors.As(err, &bad) && !bad.text.IsZero() {
			pf.text = bad.text
		} else {
			pf.text = lang.Key("mailbox.page.bad_form")
		}
	case "too_large":
		pf.text = lang.Key("mailbox.page.too_large", megabytes(limits.MaxMessageBytes))
	case "rate_limited":
		pf.text = lang.Key("mailbox.page.rate_limited")
	case "session_level_too_low":
		pf.text = lang.Key("mailbox.page.level")
	case "not_found":
		pf.text = lang.Key("mailbox.page.not_found")
	default:
		pf.text = lang.Key("mailbox.page.internal")
	}
	return pf
}

// megabytes says n bytes in German, e.g. "10 MB".
func megabytes(n int64) string {
	return strconv.FormatInt(int64(math.Ceil(float64(n)/(1<<20))), 10) + " MB"
}

// errorJSON is every error answer of the JSON routes.
type errorJSON struct {
	Error   string `json:"error"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// failJSON answers err as JSON; unexpected errors are logged once.
func (b *base) failJSON(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		return
	}
	f := failureOf(err, b.limits)
	if f.internal {
		b.logger.ErrorContext(r.Context(), "mailbox request failed", server.RequestIDAttr(r.Context()), slog.Any("error", err))
	}
	var limited *rateLimited
	if errors.As(err, &limited) {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Max(1, math.Ceil(limited.wait.Seconds())))))
	}
	if f.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="pforte"`)
	}
	writeJSON(w, f.status, errorJSON{Error: f.code, Message: f.msg, Field: f.field})
}

type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handleJSON turns a handler's error into the one JSON error answer.
func (b *base) handleJSON(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			b.failJSON(w, r, err)
		}
	})
}

// serveFile answers an attachment: its sniffed type, as a download with
// its name, under a CSP that sandboxes it should a browser open it anyway.
func serveFile(w http.ResponseWriter, f mailbox.File) {
	h := w.Header()
	h.Set("Content-Type", f.Type)
	h.Set("Content-Disposition", contentDisposition(f.Name))
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, no-store")
	h.Set("Content-Length", strconv.Itoa(len(f.Content)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(f.Content)
}

// contentDisposition names the file for the download (RFC 6266: an ASCII
// fallback and the UTF-8 name).
func contentDisposition(name string) string {
	ascii := make([]rune, 0, len(name))
	for _, r := range name {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' || r == '%' {
			r = '_'
		}
		ascii = append(ascii, r)
	}
	return `attachment; filename="` + string(ascii) + `"; filename*=UTF-8''` + pathEscape(name)
}

// pathEscape percent-encodes everything but RFC 5987's attr-chars.
func pathEscape(s string) string {
	const hex = "0123456789ABCDEF"
	var out []byte
	for _, c := range []byte(s) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || inSet("!#$&+-.^_`|~", c) {
			out = append(out, c)
			continue
		}
		out = append(out, '%', hex[c>>4], hex[c&15])
	}
	return string(out)
}

func inSet(set string, c byte) bool {
	for i := 0; i < len(set); i++ {
		if set[i] == c {
			return true
		}
	}
	return false
}
