package assistantapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/pforte/pforte/internal/assistant"
	"github.com/pforte/pforte/internal/server"
)

// Assistant answers questions and drafts hand-overs (package assistant).
type Assistant interface {
	// Ask answers q; an error comes only from the context or the
	// conversation store, never from the question's content.
	Ask(ctx context.Context, q assistant.Question) (assistant.Answer, error)
	// Draft builds the mailbox message for conversation id of person at
	// level: assistant.ErrLevel below substantial,
	// assistant.ErrNoConversation for an unknown, expired or foreign
	// conversation.
	Draft(ctx context.Context, id assistant.ConversationID, person, level string) (assistant.Draft, error)
}

// Sessions tells who asks. SessionLevel returns the assurance level ("low",
// "substantial", "high") of the session the request carries (cookie or
// bearer token) and an opaque, stable id of its person (never a KVNR); ok is
// false when the request carries no valid session, which is no error: the
// assistant answers anyone.
type Sessions interface {
	SessionLevel(r *http.Request) (level, person string, ok bool)
}

// Mailbox sends a hand-over to staff. SendToStaff delivers d as a message
// from person to the insurer's staff and answers after it is stored; the
// answer reaches the person in their mailbox.
type Mailbox interface {
	SendToStaff(ctx context.Context, person string, d assistant.Draft) error
}

// Config configures the handlers. Zero fields take the defaults.
type Config struct {
	// InsurerName and Phone appear on the page (default "Ihre
	// Krankenkasse", no phone).
	InsurerName string
	Phone       string
	// RatePerIP and BurstPerIP bound the questions of one client address
	// (default 2 per second, bursts of 20).
	RatePerIP  float64
	BurstPerIP int
	// Limiter, if not nil, is used instead of buckets of the handlers' own
	// (RatePerIP and BurstPerIP then do not apply): the node gives the page
	// and the API the same, so one address has one budget of questions.
	Limiter *server.IPLimiter
	// MaxQuestionRunes is the longest question the form offers to take
	// (default assistant.DefaultMaxQuestionRunes; the assistant decides).
	MaxQuestionRunes int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

func (c Config) withDefaults() Config {
	if c.InsurerName == "" {
		c.InsurerName = "Ihre Krankenkasse"
	}
	if c.RatePerIP <= 0 {
		c.RatePerIP = 2
	}
	if c.BurstPerIP <= 0 {
		c.BurstPerIP = 20
	}
	if c.MaxQuestionRunes <= 0 {
		c.MaxQuestionRunes = assistant.DefaultMaxQuestionRunes
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// base is what both handler types share.
type base struct {
	cfg       Config
	assistant Assistant
	sessions  Sessions
	mailbox   Mailbox
	logger    *slog.Logger
	limiter   *server.IPLimiter
	cop       *http.CrossOriginProtection
}

func newBase(cfg Config, a Assistant, sessions Sessions, mailbox Mailbox, logger *slog.Logger) base {
	cfg = cfg.withDefaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if sessions == nil {
		sessions = anonymous{}
	}
	limiter := cfg.Limiter
	if limiter == nil {
		limiter = server.NewIPLimiter(cfg.RatePerIP, cfg.BurstPerIP, cfg.Now)
	}
	return base{cfg: cfg, assistant: a, sessions: sessions, mailbox: mailbox, logger: logger,
		limiter: limiter, cop: http.NewCrossOriginProtection()}
}

// anonymous is the Sessions of a node without sessions: no one is logged in.
type anonymous struct{}

func (anonymous) SessionLevel(*http.Request) (string, string, bool) { return "", "", false }

// question builds what the assistant is asked. Without a mailbox nothing
// could be handed over by mailbox, so the assistant is asked as if no one
// were logged in: it names the telephone and keeps nothing.
func (b *base) question(r *http.Request, text, conversation string) assistant.Question {
	q := assistant.Question{Text: text, Conversation: assistant.ConversationID(conversation)}
	if level, person, ok := b.sessions.SessionLevel(r); ok && b.mailbox != nil {
		q.Level, q.Asker = level, person
	}
	return q
}

// handover drafts the conversation of the request's person and sends it to
// staff.
func (b *base) handover(r *http.Request, conversation string) error {
	if b.mailbox == nil {
		return errNoMailbox
	}
	if err := b.limited(r); err != nil { // each one is a message staff read
		return err
	}
	level, person, ok := b.sessions.SessionLevel(r)
	if !ok {
		return assistant.ErrLevel
	}
	d, err := b.assistant.Draft(r.Context(), assistant.ConversationID(conversation), person, level)
	if err != nil {
		return err
	}
	return b.mailbox.SendToStaff(r.Context(), person, d)
}

// limited takes a token for the request's client or returns a rateLimited
// error.
func (b *base) limited(r *http.Request) error {
	if ok, wait := b.limiter.Allow(r); !ok {
		return &rateLimited{wait: wait}
	}
	return nil
}
