package email

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/field"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// ActionChange is the approval action that changes or removes a confirmed
// address.
const ActionChange = approval.ActionEmailChange

// LinkTTL is how long a confirmation link works.
const LinkTTL = 24 * time.Hour

// The outcomes a person can reach.
var (
	// ErrLinkInvalid: the link is unknown, was used already or was
	// replaced by a newer one.
	ErrLinkInvalid = errors.New("email: link not valid")
	// ErrLinkExpired: the link's 24 hours are over.
	ErrLinkExpired = errors.New("email: link expired")
	// ErrLevel: the session's level is below substantial.
	ErrLevel = errors.New("email: session level too low")
	// ErrNeedsApproval: a confirmed address is changed or removed only
	// through RequestChange.
	ErrNeedsApproval = errors.New("email: change of a confirmed address needs an approval")
	// ErrNothing: there is no address to change, remove or switch.
	ErrNothing = errors.New("email: no address")
	// ErrTooManyLinks: the person asked for MaxLinksPerDay confirmation
	// links today (each is a mail to an address anyone may type).
	ErrTooManyLinks = errors.New("email: too many confirmation links today")
)

// MaxLinksPerDay is how many confirmation links a person may ask for in a
// day (UTC) with Add.
const MaxLinksPerDay = 5

// Store is what the service needs of the store.
type Store interface {
	EmailByPerson(ctx context.Context, id store.PersonID) (store.Email, error)
	EmailByPendingHash(ctx context.Context, hash []byte) (store.Email, error)
	EmailByUnsubscribeHash(ctx context.Context, hash []byte) (store.Email, error)
	UpdateEmail(ctx context.Context, id store.PersonID, fn func(e *store.Email) error, queue ...store.OutMail) (store.Email, error)
	UpdateCounter(ctx context.Context, key string, fn func(c *store.Counter) error) (store.Counter, error)
}

// Sealer encrypts at rest (package seal).
type Sealer interface {
	SealFor(plaintext, aad []byte) (store.Sealed, error)
	OpenFor(s store.Sealed, aad []byte) ([]byte, error)
}

// Approvals runs approval requests (package approval).
type Approvals interface {
	Create(ctx context.Context, person store.PersonID, action, text string, data []byte, level, client string,
		sessionLevel session.Level) (store.Approval, error)
}

// Auditor records security events (package audit).
type Auditor interface {
	Record(ctx context.Context, e audit.Event) error
}

// Service runs the persons' addresses.
type Service struct {
	store     Store
	sealer    Sealer
	approvals Approvals
	audit     Auditor
	now       func() time.Time
	kick      func()
}

// New returns a service; kick (may be nil) tells the sender a mail was
// queued.
func New(st Store, sealer Sealer, approvals Approvals, aud Auditor, now func() time.Time, kick func()) *Service {
	if kick == nil {
		kick = func() {}
	}
	return &Service{store: st, sealer: sealer, approvals: approvals, audit: aud, now: now, kick: kick}
}

// The places the sealed values are bound to.
func placeAddress(p store.PersonID) []byte { return seal.Place("emails", "address", pid(p)) }
func placePending(p store.PersonID) []byte { return seal.Place("emails", "pending", pid(p)) }
func placeToken(p store.PersonID) []byte   { return seal.Place("emails", "pending_token", pid(p)) }
func placeUnsub(p store.PersonID) []byte   { return seal.Place("emails", "unsubscribe", pid(p)) }
func pid(p store.PersonID) string          { return strconv.FormatInt(int64(p), 10) }

// View is what the person sees of their address.
type View struct {
	Address      string    `json:"address,omitempty"` // masked, e.g. "e***@b***.de"; "" when none is confirmed
	Pending      string    `json:"pending,omitempty"` // masked address waiting for its link
	PendingUntil time.Time `json:"pending_until,omitzero"`
	Notify       bool      `json:"notify"` // notices by e-mail (with a confirmed address)
}

// View returns the person's address, masked.
func (s *Service) View(ctx context.Context, person store.PersonID) (View, error) {
	e, err := s.store.EmailByPerson(ctx, person)
	if errors.Is(err, store.ErrNotFound) {
		return View{Notify: true}, nil
	}
	if err != nil {
		return View{}, fmt.Errorf("email: view: %w", err)
	}
	v := View{Notify: e.Notify}
	if !e.Address.IsZero() {
		a, err := s.sealer.OpenFor(e.Address, placeAddress(person))
		if err != nil {
			return View{}, fmt.Errorf("email: view: %w", err)
		}
		v.Address = Mask(string(a))
	}
	if !e.Pending.IsZero() {
		a, err := s.sealer.OpenFor(e.Pending, placePending(person))
		if err != nil {
			return View{}, fmt.Errorf("email: view: %w", err)
		}
		v.Pending, v.PendingUntil = Mask(string(a)), e.PendingUntil
	}
	return v, nil
}

// Mask shows the first character of the local part and of the domain and
// the top-level domain: "e***@b***.de".
func Mask(addr string) string {
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || local == "" || domain == "" {
		return "***"
	}
	tld := ""
	if i := strings.LastIndexByte(domain, '.'); i > 0 {
		tld = domain[i:]
	}
	return local[:1] + "***@" + domain[:1] + "***" + tld
}

// Clean checks and normalises an address: a bare addr-spec of at most 254
// ASCII characters, a domain with a dot, the domain in lower case.
func Clean(addr string) (string, error) {
	addr = strings.TrimSpace(addr)
	wrong := field.Wrong("email", lang.Key("email.input.address"))
	if addr == "" {
		return "", field.Wrong("email", lang.Key("field.required"))
	}
	if len(addr) > 254 || strings.ContainsFunc(addr, func(r rune) bool { return r <= 0x20 || r >= 0x7f }) {
		return "", wrong
	}
	parsed, err := mail.ParseAddress(addr)
	if err != nil || parsed.Name != "" || parsed.Address != addr {
		return "", wrong
	}
	local, domain, _ := strings.Cut(addr, "@")
	if len(local) > 64 || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") ||
		strings.ContainsAny(addr, `"()<>[]\,;:`) || approval.FieldProblem(addr) != "" {
		return "", wrong
	}
	return local + "@" + strings.ToLower(domain), nil
}

func newToken() (string, []byte, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", nil, fmt.Errorf("email: random: %w", err)
	}
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	return tok, hashToken(tok), nil
}

func hashToken(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

// pending is a new pending address with its link, made before the
// transaction that stores it, and the mail that carries the link.
type pending struct {
	addr, token store.Sealed
	hash        []byte
	until       time.Time
	mail        store.OutMail
}

func newPending(sealer Sealer, person store.PersonID, addr string, now time.Time) (pending, error) {
	tok, hash, err := newToken()
	if err != nil {
		return pending{}, err
	}
	sa, err := sealer.SealFor([]byte(addr), placePending(person))
	if err != nil {
		return pending{}, fmt.Errorf("email: seal: %w", err)
	}
	st, err := sealer.SealFor([]byte(tok), placeToken(person))
	if err != nil {
		return pending{}, fmt.Errorf("email: seal: %w", err)
	}
	ref := hex.EncodeToString(hash)
	return pending{addr: sa, token: st, hash: hash, until: now.Add(LinkTTL),
		mail: store.OutMail{ID: "cnf_" + ref[:32], PersonID: person, Kind: store.OutMailConfirm, Ref: ref, CreatedAt: now}}, nil
}

// apply makes p e's pending address.
func (p pending) apply(e *store.Email, now time.Time) {
	e.Pending, e.PendingHash, e.PendingToken, e.PendingUntil, e.UpdatedAt = p.addr, p.hash, p.token, p.until, now
}

func clearPending(e *store.Email) {
	e.Pending, e.PendingHash, e.PendingToken, e.PendingUntil = store.Sealed{}, nil, store.Sealed{}, time.Time{}
}

func substantial(level session.Level) error {
	if level.Rank() < session.LevelSubstantial.Rank() {
		return ErrLevel
	}
	return nil
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Add sets a new address for a person without a confirmed one and queues
// the mail with its confirmation link, in one transaction. A pending
// address is replaced (its link stops working). ErrNeedsApproval when a
// confirmed address exists.
func (s *Service) Add(ctx context.Context, person store.PersonID, addr string, level session.Level) error {
	if err := substantial(level); err != nil {
		return err
	}
	addr, err := Clean(addr)
	if err != nil {
		return err
	}
	// A confirmed address is refused before a link is counted: a refusal
	// sends no mail and must not use up the day's links.
	if e, err := s.store.EmailByPerson(ctx, person); err == nil && !e.Address.IsZero() {
		return ErrNeedsApproval
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("email: add: %w", err)
	}
	now := s.clock()
	if err := s.countLink(ctx, person, now); err != nil {
		return err
	}
	p, err := newPending(s.sealer, person, addr, now)
	if err != nil {
		return err
	}
	if _, err := s.store.UpdateEmail(ctx, person, func(e *store.Email) error {
		if !e.Address.IsZero() {
			return ErrNeedsApproval
		}
		p.apply(e, now)
		return nil
	}, p.mail); err != nil {
		return fmt.Errorf("email: add: %w", err)
	}
	s.kick()
	s.record(ctx, person, "email.added", nil)
	return nil
}

// countLink counts one confirmation link of the person today, or refuses
// it with ErrTooManyLinks.
func (s *Service) countLink(ctx context.Context, person store.PersonID, now time.Time) error {
	key := "email_links:" + pid(person) + ":" + now.Format(time.DateOnly)
	_, err := s.store.UpdateCounter(ctx, key, func(c *store.Counter) error {
		if c.Value >= MaxLinksPerDay {
			return ErrTooManyLinks
		}
		c.Value++
		c.UpdatedAt = now
		return nil
	})
	if errors.Is(err, ErrTooManyLinks) {
		s.record(ctx, person, "email.refused", map[string]any{"reason": "too_many_links"})
		return err
	}
	if err != nil {
		return fmt.Errorf("email: count link: %w", err)
	}
	return nil
}

// Withdraw removes a pending address (its link stops working). A confirmed
// address stays. ErrNothing when none is pending.
func (s *Service) Withdraw(ctx context.Context, person store.PersonID, level session.Level) error {
	if err := substantial(level); err != nil {
		return err
	}
	now := s.clock()
	if _, err := s.store.UpdateEmail(ctx, person, func(e *store.Email) error {
		if e.Pending.IsZero() {
			return ErrNothing
		}
		clearPending(e)
		e.UpdatedAt = now
		return nil
	}); err != nil {
		return fmt.Errorf("email: withdraw: %w", err)
	}
	s.record(ctx, person, "email.withdrawn", nil)
	return nil
}

// SetNotify switches notices by e-mail on or off. ErrNothing without a
// confirmed address.
func (s *Service) SetNotify(ctx context.Context, person store.PersonID, on bool, level session.Level) error {
	if err := substantial(level); err != nil {
		return err
	}
	now := s.clock()
	if _, err := s.store.UpdateEmail(ctx, person, func(e *store.Email) error {
		if e.Address.IsZero() {
			return ErrNothing
		}
		e.Notify, e.UpdatedAt = on, now
		return nil
	}); err != nil {
		return fmt.Errorf("email: notices: %w", err)
	}
	s.record(ctx, person, "email.notify", map[string]any{"on": on})
	return nil
}

func (s *Service) record(ctx context.Context, person store.PersonID, event string, details map[string]any) {
	_ = s.audit.Record(ctx, audit.Event{Actor: "person:" + pid(person), Event: event, Subject: "person:" + pid(person), Details: details})
}

// LinkState says what a link would do now, without changing anything
// (what a page shows before the person presses the button).
func (s *Service) LinkState(ctx context.Context, token string) (string, error) {
	e, err := s.byPending(ctx, token)
	if err != nil {
		return "", err
	}
	if !s.clock().Before(e.PendingUntil) {
		return "", ErrLinkExpired
	}
	a, err := s.sealer.OpenFor(e.Pending, placePending(e.PersonID))
	if err != nil {
		return "", fmt.Errorf("email: link: %w", err)
	}
	return Mask(string(a)), nil
}

func (s *Service) byPending(ctx context.Context, token string) (store.Email, error) {
	if token == "" || len(token) > 64 {
		return store.Email{}, ErrLinkInvalid
	}
	e, err := s.store.EmailByPendingHash(ctx, hashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return store.Email{}, ErrLinkInvalid
	}
	if err != nil {
		return store.Email{}, fmt.Errorf("email: link: %w", err)
	}
	return e, nil
}

// Confirm follows a confirmation link: the pending address becomes the
// confirmed one (replacing an older one) with a new unsubscribe token, in
// one atomic update that checks the link is still the record's and not
// expired. ErrLinkInvalid or ErrLinkExpired change nothing.
func (s *Service) Confirm(ctx context.Context, token string) (string, error) {
	e, err := s.byPending(ctx, token)
	if err != nil {
		return "", err
	}
	now := s.clock()
	hash := hashToken(token)
	unsub, unsubHash, err := newToken()
	if err != nil {
		return "", err
	}
	sealedUnsub, err := s.sealer.SealFor([]byte(unsub), placeUnsub(e.PersonID))
	if err != nil {
		return "", fmt.Errorf("email: seal: %w", err)
	}
	var masked string
	_, err = s.store.UpdateEmail(ctx, e.PersonID, func(e *store.Email) error {
		if subtle.ConstantTimeCompare(e.PendingHash, hash) != 1 {
			return ErrLinkInvalid // used or replaced meanwhile
		}
		if !now.Before(e.PendingUntil) {
			return ErrLinkExpired
		}
		plain, err := s.sealer.OpenFor(e.Pending, placePending(e.PersonID))
		if err != nil {
			return err
		}
		sealed, err := s.sealer.SealFor(plain, placeAddress(e.PersonID))
		if err != nil {
			return err
		}
		masked = Mask(string(plain))
		e.Address, e.ConfirmedAt, e.UpdatedAt = sealed, now, now
		e.UnsubscribeHash, e.Unsubscribe = unsubHash, sealedUnsub
		clearPending(e)
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrLinkInvalid) || errors.Is(err, ErrLinkExpired) {
			return "", err
		}
		return "", fmt.Errorf("email: confirm: %w", err)
	}
	s.record(ctx, e.PersonID, "email.confirmed", nil)
	return masked, nil
}

// Unsubscribe follows the one-click link of a mail: notices by e-mail go
// off. Following it again changes nothing and succeeds. ErrLinkInvalid
// for an unknown token.
func (s *Service) Unsubscribe(ctx context.Context, token string) error {
	if token == "" || len(token) > 64 {
		return ErrLinkInvalid
	}
	hash := hashToken(token)
	e, err := s.store.EmailByUnsubscribeHash(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return ErrLinkInvalid
	}
	if err != nil {
		return fmt.Errorf("email: unsubscribe: %w", err)
	}
	now := s.clock()
	if _, err := s.store.UpdateEmail(ctx, e.PersonID, func(e *store.Email) error {
		if subtle.ConstantTimeCompare(e.UnsubscribeHash, hash) != 1 {
			return ErrLinkInvalid
		}
		e.Notify, e.UpdatedAt = false, now
		return nil
	}); err != nil {
		if errors.Is(err, ErrLinkInvalid) {
			return err
		}
		return fmt.Errorf("email: unsubscribe: %w", err)
	}
	s.record(ctx, e.PersonID, "email.unsubscribed", nil)
	return nil
}

// changeData is what an email.change approval carries.
type changeData struct {
	Address string `json:"address"` // "" removes the address
}

// RequestChange asks the person's phone to approve a new address (or,
// with addr "", the removal) of a confirmed one. The approval text shows
// the new address in full, as address and bank changes show theirs.
// ErrNothing without a confirmed address (a pending one is replaced by
// Add or withdrawn by Withdraw without approval).
func (s *Service) RequestChange(ctx context.Context, person store.PersonID, addr, client string, level session.Level) (store.Approval, error) {
	text := "E-Mail-Adresse entfernen: keine Benachrichtigungen mehr per E-Mail"
	if strings.TrimSpace(addr) != "" {
		var err error
		if addr, err = Clean(addr); err != nil {
			return store.Approval{}, err
		}
		text = "Neue E-Mail-Adresse für Benachrichtigungen: " + addr
	} else {
		addr = ""
	}
	e, err := s.store.EmailByPerson(ctx, person)
	if errors.Is(err, store.ErrNotFound) || (err == nil && e.Address.IsZero()) {
		return store.Approval{}, ErrNothing
	}
	if err != nil {
		return store.Approval{}, fmt.Errorf("email: change: %w", err)
	}
	if addr != "" {
		// A change sends the new address a confirmation link once it is
		// approved: it counts against the day's links like Add, or a
		// person could send a stranger's address a stream of mails.
		if err := s.countLink(ctx, person, s.clock()); err != nil {
			return store.Approval{}, err
		}
	}
	data, err := json.Marshal(changeData{Address: addr})
	if err != nil {
		return store.Approval{}, err
	}
	return s.approvals.Create(ctx, person, ActionChange, text, data, "", client, level)
}

// Executors returns the executor of email.change for package approval: in
// the approving transaction it removes the address, or makes the new one
// pending and queues its confirmation mail; the confirmed address stays in
// use until the new one is confirmed.
func Executors(sealer Sealer) approval.Executors {
	return approval.Executors{ActionChange: approval.ExecutorFunc(func(ctx context.Context, tx store.ApprovalTx, a store.Approval) error {
		var d changeData
		if err := json.Unmarshal(a.Data, &d); err != nil {
			return fmt.Errorf("email: change: %w", err)
		}
		now := a.AnsweredAt.UTC().Truncate(time.Microsecond)
		if d.Address == "" {
			_, err := tx.UpdateEmail(ctx, a.PersonID, func(e *store.Email) error {
				e.Address, e.ConfirmedAt, e.UnsubscribeHash, e.Unsubscribe, e.UpdatedAt = store.Sealed{}, time.Time{}, nil, store.Sealed{}, now
				clearPending(e)
				return nil
			})
			return err
		}
		p, err := newPending(sealer, a.PersonID, d.Address, now)
		if err != nil {
			return err
		}
		_, err = tx.UpdateEmail(ctx, a.PersonID, func(e *store.Email) error {
			p.apply(e, now)
			return nil
		}, p.mail)
		return err
	})}
}
