package server

import (
	"encoding/json"
	"net/http"
)

// Error codes and German messages of the answers this package writes itself.
const (
	msgNotFound         = "Die angeforderte Seite gibt es nicht."
	msgMethodNotAllowed = "Diese Methode ist für diese Adresse nicht erlaubt."
	msgTooLarge         = "Die Anfrage ist zu groß."
	msgInternal         = "Ein interner Fehler ist aufgetreten. Bitte versuchen Sie es später erneut."
)

// errorBody is the JSON shape of every error answer.
type errorBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// WriteError answers with status and the JSON body
// {"error": code, "message": message}. code is a stable snake_case
// identifier for programs, message a German sentence for people; neither may
// reveal internals or secrets.
func WriteError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, errorBody{Error: code, Message: message})
}

// writeJSON answers with status and v encoded as JSON. v is always one of
// this package's plain structs, so encoding cannot fail.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":"internal","message":"` + msgInternal + `"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Del("Content-Length")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// recorder wraps a ResponseWriter to learn the status and body size. It
// unwraps for http.ResponseController, so handlers can still flush, hijack
// and set their own deadlines through the chain.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func newRecorder(w http.ResponseWriter) *recorder {
	return &recorder{ResponseWriter: w}
}

func (r *recorder) WriteHeader(code int) {
	// Informational answers (103 Early Hints) precede the real status.
	if r.status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// FlushError flushes the underlying writer; ResponseController.Flush uses it.
func (r *recorder) FlushError() error {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return http.NewResponseController(r.ResponseWriter).Flush()
}

// Flush implements http.Flusher for handlers that assert it directly.
func (r *recorder) Flush() { _ = r.FlushError() }

// Unwrap returns the wrapped writer for http.ResponseController.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// wroteHeader reports whether the status line has been sent.
func (r *recorder) wroteHeader() bool { return r.status != 0 }

// statusOrOK is the status sent, 200 when the handler wrote nothing.
func (r *recorder) statusOrOK() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}
