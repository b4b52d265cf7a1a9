package assistantapi

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/pforte/pforte/internal/assistant"
)

// Response is the JSON answer of POST /api/v1/assistant; the command line
// prints the same.
type Response struct {
	// Answer is the German answer; when personal data was masked from the
	// question it begins with the request not to share such data.
	Answer string `json:"answer"`
	// Entry is the knowledge base entry answered ("" for a hand-over or a
	// question that could not be taken).
	Entry string `json:"entry"`
	// Link is the page that does what the answer describes: a portal path
	// ("/zugang") or a screen of the service app ("app:freigabe-pin-aendern");
	// LinkText names it.
	Link     string `json:"link"`
	LinkText string `json:"link_text"`
	// Confidence is the retrieval's confidence in the best entry, 0 to 1.
	Confidence float64 `json:"confidence"`
	// Handover is set when the assistant hands over instead of answering.
	Handover *HandoverResponse `json:"handover"`
	// Disclaimer says that the answer is not legally binding.
	Disclaimer string `json:"disclaimer"`
	// Suggestions are entries that may help after a hand-over for lack of
	// confidence.
	Suggestions []Suggestion `json:"suggestions,omitempty"`
	// Conversation continues the conversation in the next question; set
	// only when the conversation is kept for a hand-over by mailbox.
	Conversation string `json:"conversation,omitempty"`
}

// HandoverResponse is the hand-over the assistant offers.
type HandoverResponse struct {
	// Reason is "human", "own_case" or "low_confidence".
	Reason string `json:"reason"`
	// Channel is "mailbox" (POST /api/v1/assistant/handover sends the
	// conversation) or "phone".
	Channel      string `json:"channel"`
	Text         string `json:"text"`
	Phone        string `json:"phone"`
	OpeningHours string `json:"opening_hours"`
}

// Suggestion is an entry offered instead of an answer.
type Suggestion struct {
	Entry string `json:"entry"`
	Title string `json:"title"`
}

// NewResponse is the JSON shape of an answer.
func NewResponse(a assistant.Answer) Response {
	r := Response{Answer: a.Text, Entry: a.Entry, Link: a.Link.Href, LinkText: a.Link.Label,
		Confidence: math.Round(a.Confidence*100) / 100, Disclaimer: a.Disclaimer, Conversation: string(a.Conversation)}
	if a.Notice != "" {
		r.Answer = a.Notice + " " + a.Text
	}
	if h := a.Handover; h != nil {
		r.Handover = &HandoverResponse{Reason: string(h.Reason), Channel: string(h.Channel), Text: h.Text,
			Phone: h.Phone, OpeningHours: h.OpeningHours}
		if h.Reason == assistant.ReasonUnsure {
			for _, c := range a.Candidates {
				r.Suggestions = append(r.Suggestions, Suggestion{Entry: c.Entry, Title: c.Title})
			}
		}
	}
	return r
}

// rateLimited asks the client to come back after wait.
type rateLimited struct{ wait time.Duration }

func (e *rateLimited) Error() string { return "assistantapi: rate limited" }

// errNoMailbox: a hand-over by mailbox was asked for, but the node has no
// mailbox (the routes are not mounted then).
var errNoMailbox = errors.New("assistantapi: no mailbox")

func retryAfter(w http.ResponseWriter, d time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Max(1, math.Ceil(d.Seconds())))))
}

// failure is what an error means for the person: status, a stable code and
// a German message that reveals nothing; internal is true for errors that
// are logged.
type failure struct {
	status   int
	code     string
	msg      string
	internal bool
}

// failureOf maps err to its failure; both handler types use it.
func failureOf(err error) failure {
	var (
		bad     *badRequest
		large   *tooLarge
		limited *rateLimited
	)
	switch {
	case errors.As(err, &bad):
		return failure{http.StatusBadRequest, "bad_request", bad.msg, false}
	case errors.As(err, &large):
		return failure{http.StatusRequestEntityTooLarge, "too_large", msgTooLarge, false}
	case errors.As(err, &limited):
		return failure{http.StatusTooManyRequests, "rate_limited", "Sie haben in kurzer Zeit sehr viele Fragen gestellt. Bitte warten Sie einen Moment.", false}
	case errors.Is(err, assistant.ErrLevel):
		return failure{http.StatusForbidden, "session_level_too_low",
			"Für die Weitergabe an das Service-Team melden Sie sich bitte an und bestätigen die Anmeldung mit Ihrem Smartphone.", false}
	case errors.Is(err, assistant.ErrNoConversation):
		return failure{http.StatusNotFound, "no_conversation",
			"Dieses Gespräch gibt es nicht mehr. Bitte stellen Sie Ihre Frage noch einmal; danach können Sie sie weitergeben.", false}
	case errors.Is(err, errNoMailbox):
		return failure{http.StatusNotFound, "no_mailbox", "Die Weitergabe über das Postfach ist hier nicht eingerichtet. Bitte rufen Sie uns an.", false}
	}
	return failure{http.StatusInternalServerError, "internal", "Ein interner Fehler ist aufgetreten. Bitte versuchen Sie es später noch einmal.", true}
}
