package mailboxapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/mailbox"
	"github.com/pforte/pforte/internal/server"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// Mailbox is the person's side of the mailbox (mailbox.Service). Every
// method takes the session's level: below substantial all but Overview
// answer mailbox.ErrLevel, and Overview only counts.
type Mailbox interface {
	Overview(ctx context.Context, person store.PersonID, level session.Level, q mailbox.Query) (mailbox.Overview, error)
	Open(ctx context.Context, person store.PersonID, level session.Level, id string) (mailbox.Thread, error)
	Reply(ctx context.Context, person store.PersonID, level session.Level, thread, text string, ups []mailbox.Upload) (string, error)
	Write(ctx context.Context, person store.PersonID, level session.Level, subject, text string, ups []mailbox.Upload) (string, error)
	Archive(ctx context.Context, person store.PersonID, level session.Level, id string, archived bool) error
	Attachment(ctx context.Context, person store.PersonID, level session.Level, id string) (mailbox.File, error)
	Search(ctx context.Context, person store.PersonID, level session.Level, query string) ([]mailbox.Hit, error)
	Limits() mailbox.Config
}

// StaffMailbox is the insurer's side (mailbox.Service).
type StaffMailbox interface {
	Send(ctx context.Context, o mailbox.Outgoing) (string, error)
	StaffOpen(ctx context.Context, id string) (mailbox.Thread, error)
	StaffReply(ctx context.Context, id, author, text string, ups []mailbox.Upload) (string, error)
	StaffInbox(ctx context.Context, limit int) ([]mailbox.Summary, error)
	StaffAttachment(ctx context.Context, thread, id string) (mailbox.File, error)
	Limits() mailbox.Config
}

// Sessions checks the API's bearer tokens (package session).
type Sessions interface {
	Authenticate(ctx context.Context, tok session.Token) (store.Session, error)
}

// Browser finds the portal session and the language of a browser request
// (web.Browser).
type Browser interface {
	Session(r *http.Request) (store.Session, bool)
	Language(r *http.Request) lang.Language
}

// Config tunes the handlers. Zero fields take the defaults.
type Config struct {
	// InsurerName and Phone appear on the pages.
	InsurerName string
	Phone       string
	// StaffToken is the staff API's bearer token (at least 32
	// characters); empty: the staff routes are not mounted.
	StaffToken string
	// WriteRate and WriteBurst bound the messages one client address sends
	// (default 1 per second, bursts of 20).
	WriteRate  float64
	WriteBurst int
	Now        func() time.Time
}

func (c Config) withDefaults() Config {
	if c.InsurerName == "" {
		c.InsurerName = "Ihre Krankenkasse"
	}
	if c.WriteRate <= 0 {
		c.WriteRate = 1
	}
	if c.WriteBurst <= 0 {
		c.WriteBurst = 20
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// MinStaffToken is the shortest staff token accepted.
const MinStaffToken = 32

// BodyLimit is the largest request body the upload routes take for the
// limits lim: every attachment base64-encoded (JSON) or as form parts,
// the longest text, and room for the rest. The node raises the server's
// body limit to it for the prefixes of UploadPrefixes.
func BodyLimit(lim mailbox.Config) int64 {
	return lim.MaxMessageBytes*4/3 + int64(lim.MaxTextRunes)*4*2 + 256<<10
}

// UploadPrefixes are the paths whose bodies may carry attachments.
var UploadPrefixes = []string{"/api/v1/mailbox/threads", "/api/v1/staff/mailbox/threads", "/postfach/"}

// base is what the handler types share.
type base struct {
	cfg     Config
	logger  *slog.Logger
	limiter *server.IPLimiter
	limits  mailbox.Config
}

func newBase(cfg Config, limits mailbox.Config, logger *slog.Logger) base {
	cfg = cfg.withDefaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return base{cfg: cfg, logger: logger, limiter: server.NewIPLimiter(cfg.WriteRate, cfg.WriteBurst, cfg.Now), limits: limits}
}

// limited takes a token for the request's client or returns a *rateLimited.
func (b *base) limited(r *http.Request) error {
	if ok, wait := b.limiter.Allow(r); !ok {
		return &rateLimited{wait: wait}
	}
	return nil
}

// bearer extracts a bearer token from the Authorization header.
func bearer(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" || len(tok) > 512 {
		return "", false
	}
	return tok, true
}

var errUnauthenticated = errors.New("mailboxapi: no valid session")

// errPasswordChangeDue: the session still has to replace its initial password.
var errPasswordChangeDue = errors.New("mailboxapi: password change due")

// tokenMatches compares a presented token with the configured one in
// constant time (hashes first, so the length leaks nothing either).
func tokenMatches(presented, want string) bool {
	if want == "" {
		return false
	}
	a, b := sha256.Sum256([]byte(presented)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}
