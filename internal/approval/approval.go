// Package approval owns approval requests (Freigaben): a person is asked to
// approve an action on a bound device, the device shows the German text, and the
// approving signature covers the content hash of exactly what will be executed
// (dynamic linking). It owns the requests, their one transition, the policy
// table that says which actions need which level, number matching for portal
// logins, and telling listeners about new and answered requests. It does not own
// HTTP (package appapi exposes it), the proof of device and PIN (package device
// checks it), or what a change does (each action's Executor, registered by the
// package that owns the data).
//
// A request leaves pending exactly once, in one atomic store update:
//
//	            Approve (device + PIN proof over the content hash,
//	            device level ≥ required level, right number tapped)
//	pending ───────────────────────────────────────────────▶ approved
//	   │  │                                  the action's Executor runs in the same
//	   │  │                                  transaction: the change, its outbox event
//	   │  │                                  and its notice commit with the approval,
//	   │  │                                  or the request stays pending
//	   │  │ Decline (device key alone), or a wrong number tapped
//	   │  └───────────────────────────────────────────────▶ declined (reason declined, not_me — audit
//	   │                                                      "approval.not_me", the flag for staff — or
//	   │                                                      wrong_number)
//	   ├── a newer request of the same person and action ─▶ withdrawn
//	   └── expiry (5 minutes) ─────────────────────────────▶ expired
//
// An action with an Executor (address, bank, device removal, …) is carried out
// when it is approved, never later and never by a read: only the data whose hash
// the phone signed is executed, and never after expiry. Actions without one
// (portal.login, client.request) grant something to their requester, who
// redeems the approved request once (Redeem). Adding an action is an Executor
// plus a policy row.
//
// Who may ask: the session that starts a request must itself meet the
// action's policy level (Create checks it, for portal and API alike), and each
// person has at most MaxPendingLogins unapproved requests of one action within
// LoginWindow (push fatigue).
//
// Listeners: Subscribe sees what this process creates and answers at once; Watch
// and Await add a database poll, so a device's push channel on node B learns of a
// request created on node A within the poll interval.
package approval

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/device"
	"github.com/pforte/pforte/internal/field"
	"github.com/pforte/pforte/internal/jsonstrict"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// Errors of the approval flows.
var (
	// ErrNotFound: no such request (for this person or device).
	ErrNotFound = errors.New("approval: no such request")
	// ErrNotPending: the request was already answered.
	ErrNotPending = errors.New("approval: request already answered")
	// ErrExpired: the request expired before it was answered.
	ErrExpired = errors.New("approval: request expired")
	// ErrLevelTooLow: the device's binding is below the level the request
	// requires (a letter-bound device cannot approve what requires high).
	ErrLevelTooLow = errors.New("approval: device level too low")
	// ErrWrongNumber: the number tapped was not the one the portal showed; the
	// request is now declined (reason wrong_number), without the not-me flag.
	ErrWrongNumber = errors.New("approval: wrong number tapped")
	// ErrNoDevice: the person has no bound device to ask.
	ErrNoDevice = errors.New("approval: no bound device")
	// ErrDevicesLocked: every bound device's Freigabe-PIN is locked; no
	// one could approve the request, so it is not made.
	ErrDevicesLocked = errors.New("approval: every bound device's pin is locked")
	// ErrTooManyPending: too many unapproved requests of the action recently
	// (push fatigue protection).
	ErrTooManyPending = errors.New("approval: too many pending requests")
	// ErrSessionLevel: the session asking is below the action's policy level.
	ErrSessionLevel = errors.New("approval: session level below the action's policy")
	// ErrNotApproved: redeeming a request that is not approved.
	ErrNotApproved = errors.New("approval: request not approved")
	// ErrUsed: the request was already redeemed.
	ErrUsed = errors.New("approval: request already redeemed")
	// ErrDataChanged: the data redeemed is not the data approved.
	ErrDataChanged = errors.New("approval: data differs from the approved data")
)

// Limits on what a request shows and carries.
const (
	MaxTextRunes = 500
	MaxDataBytes = 8 << 10
)

// Config holds the approval rules. Zero fields take the defaults.
type Config struct {
	TTL              time.Duration // how long a request can be answered, default 5 minutes
	MaxPendingLogins int           // unapproved requests per person and action within LoginWindow, default 3
	LoginWindow      time.Duration // default 10 minutes
	Policy           Policy        // nil: DefaultPolicy()
}

func (c Config) withDefaults() Config {
	if c.TTL <= 0 {
		c.TTL = 5 * time.Minute
	}
	if c.MaxPendingLogins <= 0 {
		c.MaxPendingLogins = 3
	}
	if c.LoginWindow <= 0 {
		c.LoginWindow = 10 * time.Minute
	}
	if c.Policy == nil {
		c.Policy = DefaultPolicy()
	}
	return c
}

// Validate reports every problem at once.
func (c Config) Validate() []error {
	var errs []error
	if c.TTL < 0 || c.TTL > 0 && (c.TTL < 30*time.Second || c.TTL > 30*time.Minute) {
		errs = append(errs, fmt.Errorf("approval.ttl: %v is not between 30s and 30m", c.TTL))
	}
	if c.MaxPendingLogins < 0 || c.MaxPendingLogins > 20 {
		errs = append(errs, fmt.Errorf("approval.max_pending_logins: %d is not between 1 and 20", c.MaxPendingLogins))
	}
	if c.LoginWindow < 0 || c.LoginWindow > 24*time.Hour {
		errs = append(errs, fmt.Errorf("approval.login_window: %v is not between 1s and 24h", c.LoginWindow))
	}
	if c.Policy != nil {
		errs = append(errs, c.Policy.Validate()...)
	}
	return errs
}

// Store is what the service needs of the store.
type Store interface {
	DeviceByID(ctx context.Context, id store.DeviceID) (store.Device, error)
	PersonDevices(ctx context.Context, id store.PersonID) ([]store.Device, error)
	CreateApproval(ctx context.Context, a store.Approval, since time.Time, check func(unapproved int) error, withdraw func(old store.Approval) bool) error
	ApprovalByID(ctx context.Context, id string) (store.Approval, error)
	PendingApprovals(ctx context.Context, id store.PersonID, now time.Time) ([]store.Approval, error)
	AnswerApproval(ctx context.Context, id string, dev store.DeviceID, reason store.DeclineReason, now time.Time) (store.Approval, error)
	ApproveApproval(ctx context.Context, id string, contentHash []byte, dev store.DeviceID, method string, now time.Time,
		exec func(ctx context.Context, tx store.ApprovalTx, a store.Approval) error) (store.Approval, error)
	RedeemApproval(ctx context.Context, id string, person store.PersonID, now time.Time) error
	ExpireApprovals(ctx context.Context, now time.Time) (int64, error)
	// PersonLockByID returns the staff lock of the person's access
	// (store.ErrNotFound: none): a locked person's requests are not
	// carried out.
	PersonLockByID(ctx context.Context, id store.PersonID) (store.PersonLock, error)
}

// Executor carries out one action when a request of it is approved. Execute
// runs inside the transaction that moves a from pending to approved: it writes
// the change through tx (with the outbox event and the notice the change
// owes), and an error rolls back the change and the approval alike (the
// request stays pending and the error reaches the phone). a.Data is exactly
// the data whose hash the phone signed. Execute may run more than once (a
// retried transaction): it must not act outside tx.
type Executor interface {
	Execute(ctx context.Context, tx store.ApprovalTx, a store.Approval) error
}

// ExecutorFunc adapts a function to Executor.
type ExecutorFunc func(ctx context.Context, tx store.ApprovalTx, a store.Approval) error

// Execute calls f.
func (f ExecutorFunc) Execute(ctx context.Context, tx store.ApprovalTx, a store.Approval) error {
	return f(ctx, tx, a)
}

// Executors maps actions to what carries them out.
type Executors map[string]Executor

// Devices checks the app's proofs (package device). Prove checks the device and
// PIN signatures over contentHash and counts a PIN attempt; ProveDevice checks
// the device signature alone and never touches the PIN counter. Both consume the
// challenge and return the binding; their errors (device.ErrProof,
// *device.WrongPINError, device.ErrPINLocked) are passed through.
type Devices interface {
	Prove(ctx context.Context, dev store.DeviceID, purpose string, contentHash [32]byte, p device.Proof, clientIP string) (store.Device, error)
	ProveDevice(ctx context.Context, dev store.DeviceID, purpose string, contentHash [32]byte, p device.Proof, clientIP string) (store.Device, error)
}

// Auditor records security events.
type Auditor interface {
	Record(ctx context.Context, e audit.Event) error
}

// Service runs the approval flows.
type Service struct {
	store     Store
	devices   Devices
	audit     Auditor
	executors Executors
	now       func() time.Time
	cfg       Config
	logger    *slog.Logger
	hub       hub
	kick      func() // after a carried-out change: notices are waiting
}

// New returns a service carrying out approved actions with executors. Every
// request's text and data are kept sealed with sealer in the store: they carry
// personal data (a new address, a bank account); the content hash stays clear.
// kick (may be nil) is called after an executor committed, so the notices it
// queued go out at once (notice.Service.Kick).
func New(st Store, sealer Sealer, devices Devices, aud Auditor, now func() time.Time, cfg Config, executors Executors, kick func(),
	logger *slog.Logger) *Service {
	if kick == nil {
		kick = func() {}
	}
	return &Service{store: sealingStore{Store: st, sealer: sealer}, devices: devices, audit: aud, executors: executors, now: now,
		cfg: cfg.withDefaults(), kick: kick, logger: logger}
}

// Policy returns the policy table in force.
func (s *Service) Policy() Policy { return s.cfg.Policy }

func subject(id store.PersonID) string { return "person:" + strconv.FormatInt(int64(id), 10) }

func (s *Service) record(ctx context.Context, e audit.Event) {
	if err := s.audit.Record(ctx, e); err != nil {
		s.logger.Error("audit record", slog.String("event", e.Event), slog.Any("error", err))
	}
}

// view shows a pending request past its expiry as expired, before the sweep
// has moved it.
func (s *Service) view(a store.Approval) store.Approval {
	if a.Status == store.ApprovalPending && !s.now().Before(a.ExpiresAt) {
		a.Status = store.ApprovalExpired
	}
	return a
}

// checkText bounds the display text: valid UTF-8, 1–500 characters, no control
// characters but line breaks.
func checkText(text string) error {
	if strings.TrimSpace(text) == "" || !utf8.ValidString(text) || utf8.RuneCountInString(text) > MaxTextRunes ||
		!DisplaySafe(text, true) {
		return field.Invalid("text", "Der Text der Freigabe muss 1 bis 500 Zeichen lang sein und darf keine Steuerzeichen enthalten.")
	}
	return nil
}

// checkData requires a JSON object of at most 8 KiB in valid UTF-8 that names
// no member twice (what an executor reads must be what the phone showed).
func checkData(data []byte) error {
	trimmed := strings.TrimLeft(string(data), " \t\r\n")
	if len(data) > MaxDataBytes || !utf8.Valid(data) || jsonstrict.Check(data) != nil || !strings.HasPrefix(trimmed, "{") {
		return field.Invalid("data", "Die Daten der Freigabe müssen ein JSON-Objekt von höchstens 8 KiB sein.")
	}
	return nil
}

func randomID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("approval: random: %w", err)
	}
	return "apr_" + base64.RawURLEncoding.EncodeToString(b), nil
}

// randomBelow returns a uniform number in [0, n) from crypto/rand.
func randomBelow(n int) (int, error) {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		return 0, fmt.Errorf("approval: random: %w", err)
	}
	return int(v.Int64()), nil
}

// numberMatching picks the two-digit number the portal shows and three
// distinct choices for the device, one of them the number, in random order.
func numberMatching() (int, []int, error) {
	choices := make([]int, 0, 3)
	for len(choices) < 3 {
		n, err := randomBelow(90)
		if err != nil {
			return 0, nil, err
		}
		n += 10
		dup := false
		for _, c := range choices {
			dup = dup || c == n
		}
		if !dup {
			choices = append(choices, n)
		}
	}
	// The three were drawn uniformly and independently of their order, so
	// the shown number can be any position: pick which one it is.
	i, err := randomBelow(3)
	if err != nil {
		return 0, nil, err
	}
	return choices[i], choices, nil
}

// Create asks the person to approve action on a bound device. text is the German
// text the device shows, data the exact bytes an executor carries out (a JSON
// object), level the least level the caller needs (empty: the policy's),
// client who asks (e.g. "session:<hash prefix>"), and sessionLevel the level of
// the session that asks: below the action's policy level it is refused with
// ErrSessionLevel, for portal and API alike. The request requires the higher of
// level and the policy's level, and at least substantial. For portal.login it
// carries number matching (Number for the portal, Choices for the device). A
// new request withdraws the person's pending one of the same action. At most
// MaxPendingLogins unapproved requests per action and LoginWindow are allowed:
// pushes nobody approves stop there (push fatigue). ErrNoDevice without a
// bound device; ErrDevicesLocked when every bound device's PIN is locked
// (nobody could approve it: the person learns at once how to unlock).
func (s *Service) Create(ctx context.Context, person store.PersonID, action, text string, data []byte, level, client string,
	sessionLevel session.Level) (store.Approval, error) {
	if action == ActionClientRequest {
		return store.Approval{}, field.Invalid("action", "Diese Aktion kann nicht freigegeben werden.")
	}
	if _, ok := s.cfg.Policy[action]; ok && !s.cfg.Policy.Allows(action, sessionLevel) {
		s.record(ctx, audit.Event{Actor: subject(person), Event: "approval.refused", Subject: subject(person),
			Details: map[string]any{"action": action, "reason": "session_level", "level": string(sessionLevel)}})
		return store.Approval{}, ErrSessionLevel
	}
	return s.create(ctx, person, action, text, data, level, client)
}

// CreateForClient asks the person's phone to approve what another insurer
// application (client, an OpenID client id) shows: action client.request,
// asked through CIBA, where no session of the person asks. Requests of one
// client withdraw that client's pending one, not another client's.
func (s *Service) CreateForClient(ctx context.Context, person store.PersonID, text string, data []byte, level, client string) (store.Approval, error) {
	return s.create(ctx, person, ActionClientRequest, text, data, level, client)
}

func (s *Service) create(ctx context.Context, person store.PersonID, action, text string, data []byte, level, client string) (store.Approval, error) {
	rule, ok := s.cfg.Policy[action]
	if !ok || !rule.Device {
		return store.Approval{}, field.Invalid("action", "Diese Aktion kann nicht freigegeben werden.")
	}
	if level != "" && session.Level(level).Rank() == 0 {
		return store.Approval{}, field.Invalid("level", "Unbekanntes Vertrauensniveau.")
	}
	if err := checkText(text); err != nil {
		return store.Approval{}, err
	}
	if err := checkData(data); err != nil {
		return store.Approval{}, err
	}
	if len(client) > 128 {
		client = client[:128]
	}
	devs, err := s.store.PersonDevices(ctx, person)
	if err != nil {
		return store.Approval{}, fmt.Errorf("approval: create: %w", err)
	}
	if len(devs) == 0 {
		return store.Approval{}, ErrNoDevice
	}
	if !slices.ContainsFunc(devs, func(d store.Device) bool { return d.PINLockedAt.IsZero() }) {
		return store.Approval{}, ErrDevicesLocked
	}
	id, err := randomID()
	if err != nil {
		return store.Approval{}, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	hash := appclient.ContentHash(action, text, data)
	a := store.Approval{ID: id, PersonID: person, Action: action, Text: text, Data: append([]byte(nil), data...),
		ContentHash: hash[:], Level: rule.required(level), Status: store.ApprovalPending, Client: client,
		CreatedAt: now, ExpiresAt: now.Add(s.cfg.TTL)}
	if action == ActionPortalLogin {
		if a.Number, a.Choices, err = numberMatching(); err != nil {
			return store.Approval{}, err
		}
	}
	check := func(unapproved int) error {
		if unapproved >= s.cfg.MaxPendingLogins {
			return ErrTooManyPending
		}
		return nil
	}
	withdraw := func(old store.Approval) bool { return action != ActionClientRequest || old.Client == client }
	if err := s.store.CreateApproval(ctx, a, now.Add(-s.cfg.LoginWindow), check, withdraw); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return store.Approval{}, ErrNotFound
		}
		if errors.Is(err, ErrTooManyPending) {
			s.record(ctx, audit.Event{Actor: subject(person), Event: "approval.refused", Subject: subject(person),
				Details: map[string]any{"action": action, "reason": "too_many_pending"}})
			return store.Approval{}, err
		}
		return store.Approval{}, fmt.Errorf("approval: create: %w", err)
	}
	s.record(ctx, audit.Event{Actor: subject(person), Event: "approval.requested", Subject: subject(person),
		Details: map[string]any{"approval": id, "action": action, "level": a.Level, "client": client}})
	s.hub.publish(a)
	return a, nil
}

// answerable loads the request for an answer from dev: the device must be bound
// to the request's person, the request pending and unexpired.
func (s *Service) answerable(ctx context.Context, id string, dev store.DeviceID) (store.Approval, store.Device, error) {
	a, err := s.store.ApprovalByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Approval{}, store.Device{}, ErrNotFound
	}
	if err != nil {
		return store.Approval{}, store.Device{}, fmt.Errorf("approval: load: %w", err)
	}
	d, err := s.store.DeviceByID(ctx, dev)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (d.PersonID != a.PersonID || !d.RemovedAt.IsZero())) {
		return store.Approval{}, store.Device{}, ErrNotFound
	}
	if err != nil {
		return store.Approval{}, store.Device{}, fmt.Errorf("approval: load device: %w", err)
	}
	if err := s.pendingErr(a); err != nil {
		return store.Approval{}, store.Device{}, err
	}
	return a, d, nil
}

// pendingErr says why a cannot be answered, or nil.
func (s *Service) pendingErr(a store.Approval) error {
	switch s.view(a).Status {
	case store.ApprovalPending:
		return nil
	case store.ApprovalExpired:
		return ErrExpired
	default:
		return ErrNotPending
	}
}

// lost maps a lost race of an answer to its reason.
func (s *Service) lost(ctx context.Context, id string) error {
	cur, err := s.store.ApprovalByID(ctx, id)
	if err != nil {
		return fmt.Errorf("approval: answer: %w", err)
	}
	if err := s.pendingErr(cur); err != nil {
		return err
	}
	return ErrExpired // pending in the store, but past its expiry now
}

// decline runs the transition to declined.
func (s *Service) decline(ctx context.Context, id string, dev store.DeviceID, reason store.DeclineReason) (store.Approval, error) {
	a, err := s.store.AnswerApproval(ctx, id, dev, reason, s.now().UTC().Truncate(time.Microsecond))
	if errors.Is(err, store.ErrConflict) {
		return store.Approval{}, s.lost(ctx, id)
	}
	if err != nil {
		return store.Approval{}, fmt.Errorf("approval: answer: %w", err)
	}
	s.hub.publish(a)
	return a, nil
}

// approve runs the transition to approved with the action's executor, in one
// transaction.
func (s *Service) approve(ctx context.Context, a store.Approval, hash [32]byte, dev store.DeviceID, method string) (store.Approval, error) {
	var exec func(ctx context.Context, tx store.ApprovalTx, a store.Approval) error
	ex, carried := s.executors[a.Action]
	if carried {
		exec = ex.Execute
	}
	got, err := s.store.ApproveApproval(ctx, a.ID, hash[:], dev, method, s.now().UTC().Truncate(time.Microsecond), exec)
	if errors.Is(err, store.ErrConflict) {
		return store.Approval{}, s.lost(ctx, a.ID)
	}
	if err != nil {
		return store.Approval{}, fmt.Errorf("approval: approve %s: %w", a.Action, err)
	}
	if carried {
		s.kick()
	}
	s.hub.publish(got)
	return got, nil
}

// contentHash recomputes the request's hash from what is stored and checks it
// against the stored hash.
func contentHash(a store.Approval) ([32]byte, error) {
	h := appclient.ContentHash(a.Action, a.Text, a.Data)
	if subtle.ConstantTimeCompare(h[:], a.ContentHash) != 1 {
		return h, fmt.Errorf("approval: %s: stored content hash does not match its content", a.ID)
	}
	return h, nil
}

// amrMethods are the confirmation methods an app may report.
var amrMethods = map[string]bool{"pin": true, "fpt": true, "face": true}

// Approve answers the request with the device's proof (purpose approve, both
// keys over the request's content hash, as package device checks it); method is
// what the app reports ("pin", "fpt", "face"). The device must be bound to the
// request's person (ErrNotFound otherwise) and at least at the required level
// (ErrLevelTooLow). For portal.login, tapped must be the number the portal
// shows: a wrong tap, with a valid proof, declines the request (reason
// wrong_number, no not-me flag: a mistap is no report) and returns it with
// ErrWrongNumber. Device errors pass through:
// device.ErrProof, *device.WrongPINError, device.ErrPINLocked.
func (s *Service) Approve(ctx context.Context, id string, dev store.DeviceID, proof device.Proof, method string, tapped int, clientIP string) (store.Approval, error) {
	a, d, err := s.answerable(ctx, id, dev)
	if err != nil {
		return store.Approval{}, err
	}
	if session.Level(d.Level).Rank() < session.Level(a.Level).Rank() {
		s.record(ctx, audit.Event{Actor: subject(a.PersonID), Event: "approval.refused", Subject: subject(a.PersonID), ClientIP: clientIP,
			Details: map[string]any{"approval": a.ID, "action": a.Action, "device": string(dev), "reason": "level"}})
		return store.Approval{}, ErrLevelTooLow
	}
	if !amrMethods[method] {
		method = "pin"
	}
	hash, err := contentHash(a)
	if err != nil {
		return store.Approval{}, err
	}
	proof.For = a.ID // the challenge must have been issued for this request
	if _, err := s.devices.Prove(ctx, dev, device.PurposeApprove, hash, proof, clientIP); err != nil {
		return store.Approval{}, err
	}
	// Staff locked the person's access (after "that was not me", a
	// suspected takeover): a request asked for before the lock is not
	// carried out, whoever holds the phone.
	if _, err := s.store.PersonLockByID(ctx, a.PersonID); err == nil {
		s.record(ctx, audit.Event{Actor: subject(a.PersonID), Event: "approval.refused", Subject: subject(a.PersonID), ClientIP: clientIP,
			Details: map[string]any{"approval": a.ID, "action": a.Action, "device": string(dev), "reason": "staff_locked"}})
		return store.Approval{}, session.ErrPersonLocked
	} else if !errors.Is(err, store.ErrNotFound) {
		return store.Approval{}, fmt.Errorf("approval: access lock: %w", err)
	}
	if a.Action == ActionPortalLogin && tapped != a.Number {
		// A mistapped number is no "this was not me": the login is
		// declined and the person asked to sign in again; only the
		// explicit answer flags it for staff.
		got, err := s.decline(ctx, id, dev, store.DeclineWrongNumber)
		if err != nil {
			return store.Approval{}, err
		}
		s.record(ctx, audit.Event{Actor: subject(a.PersonID), Event: "approval.declined", Subject: subject(a.PersonID), ClientIP: clientIP,
			Details: map[string]any{"approval": a.ID, "action": a.Action, "device": string(dev), "reason": "wrong_number"}})
		return got, ErrWrongNumber
	}
	got, err := s.approve(ctx, a, hash, dev, method)
	if err != nil {
		return store.Approval{}, err
	}
	details := map[string]any{"approval": a.ID, "action": a.Action, "device": string(dev), "method": method, "level": d.Level}
	if !got.UsedAt.IsZero() {
		details["executed"] = true
	}
	s.record(ctx, audit.Event{Actor: subject(a.PersonID), Event: "approval.approved", Subject: subject(a.PersonID), ClientIP: clientIP,
		Details: details})
	return got, nil
}

// Decline answers the request with "no", proven by the device key alone
// (a decline challenge issued for this request, signed over its content hash;
// no PIN, no attempt counted). notMe ("this was not me") is recorded on the request and as the
// audit event "approval.not_me", the flag staff look for.
func (s *Service) Decline(ctx context.Context, id string, dev store.DeviceID, proof device.Proof, notMe bool, clientIP string) (store.Approval, error) {
	a, _, err := s.answerable(ctx, id, dev)
	if err != nil {
		return store.Approval{}, err
	}
	hash, err := contentHash(a)
	if err != nil {
		return store.Approval{}, err
	}
	proof.For = a.ID // the challenge must have been issued for this request
	if _, err := s.devices.ProveDevice(ctx, dev, device.PurposeDecline, hash, proof, clientIP); err != nil {
		return store.Approval{}, err
	}
	reason := store.DeclineDeclined
	if notMe {
		reason = store.DeclineNotMe
	}
	got, err := s.decline(ctx, id, dev, reason)
	if err != nil {
		return store.Approval{}, err
	}
	event := "approval.declined"
	if notMe {
		event = "approval.not_me"
	}
	s.record(ctx, audit.Event{Actor: subject(a.PersonID), Event: event, Subject: subject(a.PersonID), ClientIP: clientIP,
		Details: map[string]any{"approval": a.ID, "action": a.Action, "device": string(dev), "reason": "declined"}})
	return got, nil
}

// Status returns the person's request, shown as expired once past its expiry.
// ErrNotFound also for a request of someone else.
func (s *Service) Status(ctx context.Context, id string, person store.PersonID) (store.Approval, error) {
	a, err := s.store.ApprovalByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && a.PersonID != person) {
		return store.Approval{}, ErrNotFound
	}
	if err != nil {
		return store.Approval{}, fmt.Errorf("approval: status: %w", err)
	}
	return s.view(a), nil
}

// Pending returns the person's pending, unexpired requests, oldest first (what
// a polling device shows). Approval.Number is for the portal only: never send
// it to a device.
func (s *Service) Pending(ctx context.Context, person store.PersonID) ([]store.Approval, error) {
	list, err := s.store.PendingApprovals(ctx, person, s.now())
	if err != nil {
		return nil, fmt.Errorf("approval: pending: %w", err)
	}
	return list, nil
}

// Redeem takes what the person's approved request id grants its requester,
// once: a portal session's step-up (CompleteLogin) or an application's tokens
// (CIBA). Only requests of actions without an executor are redeemed (the
// others were carried out when approved). data must be the data approved
// (ErrDataChanged otherwise). Of parallel redemptions exactly one succeeds,
// the others get ErrUsed. Other errors: ErrNotFound, ErrNotApproved,
// ErrExpired.
func (s *Service) Redeem(ctx context.Context, id string, person store.PersonID, data []byte) error {
	a, err := s.Status(ctx, id, person)
	if err != nil {
		return err
	}
	if _, carried := s.executors[a.Action]; carried {
		return ErrNotFound
	}
	hash := appclient.ContentHash(a.Action, a.Text, data)
	if subtle.ConstantTimeCompare(hash[:], a.ContentHash) != 1 {
		return ErrDataChanged
	}
	switch {
	case a.Status == store.ApprovalExpired:
		return ErrExpired
	case a.Status != store.ApprovalApproved:
		return ErrNotApproved
	case !a.UsedAt.IsZero():
		return ErrUsed
	}
	err = s.store.RedeemApproval(ctx, id, person, s.now().UTC().Truncate(time.Microsecond))
	if errors.Is(err, store.ErrConflict) {
		return ErrUsed
	}
	if err != nil {
		return fmt.Errorf("approval: redeem: %w", err)
	}
	s.record(ctx, audit.Event{Actor: subject(person), Event: "approval.redeemed", Subject: subject(person),
		Details: map[string]any{"approval": a.ID, "action": a.Action}})
	return nil
}

// CompleteLogin redeems the person's approved portal.login request id, once,
// and returns the level of the binding that approved it: the level the portal
// session is raised to.
func (s *Service) CompleteLogin(ctx context.Context, id string, person store.PersonID) (session.Level, error) {
	a, err := s.Status(ctx, id, person)
	if err != nil {
		return "", err
	}
	if a.Action != ActionPortalLogin {
		return "", ErrNotFound
	}
	if err := s.Redeem(ctx, id, person, a.Data); err != nil {
		return "", err
	}
	d, err := s.store.DeviceByID(ctx, a.DeviceID)
	if err != nil {
		return "", fmt.Errorf("approval: complete login: %w", err)
	}
	return session.Level(d.Level), nil
}

// Expire moves every pending request past its expiry to expired (a periodic
// sweep; Status already shows them as expired) and returns how many it moved.
func (s *Service) Expire(ctx context.Context) (int64, error) {
	n, err := s.store.ExpireApprovals(ctx, s.now())
	if err != nil {
		return 0, fmt.Errorf("approval: expire: %w", err)
	}
	return n, nil
}
