package staff

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/store"
)

// A staff member's second factor may be a security key or passkey
// (WebAuthn) instead of, or beside, the TOTP code. Each ceremony has two
// steps; between them its challenge lives in the database (so any node can
// finish it), found by the hash of a random handle that only the browser
// that began it holds (a cookie), of one kind, for ChallengeTTL, and taken
// exactly once:
//
//	register: BeginKey (signed in) ──handle, options──▶ browser ──FinishKey──▶ key stored
//	login:    BeginKeyLogin (login, password; one attempt counted)
//	              ──handle, options──▶ browser ──FinishKeyLogin──▶ session
//
// An assertion's signature counter must be above the stored one (or both
// 0, for keys without a counter); a counter that did not increase is a
// cloned key: refused and recorded (staff.key_clone_suspected). The last
// second factor (key or TOTP) cannot be removed.

// Errors of security keys.
var (
	// ErrKeyRefused: the browser's answer to a key ceremony does not
	// verify (wrong, foreign or cloned key, used or expired challenge).
	ErrKeyRefused = errors.New("staff: security key refused")
	// ErrLastFactor: removing it would leave no second factor.
	ErrLastFactor = errors.New("staff: the last second factor cannot be removed")
	// ErrNoKey: no such key (or no TOTP secret) of the staff member.
	ErrNoKey = errors.New("staff: no such key")
	// ErrKeysOff: security keys are not configured.
	ErrKeysOff = errors.New("staff: security keys are off")
)

// The kinds of challenges.
const (
	kindRegister = "register"
	kindLogin    = "login"
)

// MaxKeyName is the longest name of a key, in characters.
const MaxKeyName = 60

// KeyConfig configures security keys (WebAuthn). Zero fields take their
// defaults from the public base URL (Derive).
type KeyConfig struct {
	// RPID is the relying party id: the back office's host name (without
	// port); keys registered under one id work only there.
	RPID string
	// Origins are the origins the back office is reached at
	// (scheme://host[:port]); an answer from any other is refused.
	Origins []string
	// ChallengeTTL is how long a challenge waits for the browser (default
	// 2 minutes).
	ChallengeTTL time.Duration
}

// Derive fills in RPID and Origins from the public base URL when empty.
// An address is no relying party id: with a public URL naming an IP
// address and no RPID, security keys stay off.
func (c KeyConfig) Derive(publicURL string) KeyConfig {
	u, err := url.Parse(publicURL)
	if err != nil || u.Host == "" {
		return c
	}
	if c.RPID == "" {
		if _, err := netip.ParseAddr(u.Hostname()); err == nil {
			return c
		}
		c.RPID = u.Hostname()
	}
	if len(c.Origins) == 0 {
		c.Origins = []string{u.Scheme + "://" + u.Host}
	}
	return c
}

// Check reports a configuration the WebAuthn library refuses, or an
// origin that is not scheme://host[:port]; nil when keys are off.
func (c KeyConfig) Check() error {
	if c.RPID == "" {
		return nil
	}
	for _, o := range c.Origins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil {
			return fmt.Errorf("%q is no origin (scheme://host[:port])", o)
		}
	}
	_, err := webauthn.New(&webauthn.Config{RPID: c.RPID, RPDisplayName: "Pforte", RPOrigins: c.Origins})
	return err
}

// Keys runs the security keys of staff members: their registration, list
// and removal, and the login with them.
type Keys struct {
	s   *Service
	wa  *webauthn.WebAuthn
	ttl time.Duration
}

// Keys returns the security keys of the service, or nil when
// Config.Keys.RPID is empty or the configuration is refused (logged).
func (s *Service) Keys() *Keys { return s.keys }

func newKeys(s *Service, c KeyConfig) *Keys {
	if c.RPID == "" {
		return nil
	}
	wa, err := webauthn.New(&webauthn.Config{RPID: c.RPID, RPDisplayName: s.cfg.Issuer, RPOrigins: c.Origins})
	if err != nil {
		s.logger.Error("staff: security keys are off", slog.Any("error", err))
		return nil
	}
	if c.ChallengeTTL <= 0 {
		c.ChallengeTTL = 2 * time.Minute
	}
	return &Keys{s: s, wa: wa, ttl: c.ChallengeTTL}
}

// Handle names one ceremony between its steps (the browser keeps it in a
// cookie). It never prints itself.
type Handle string

// String redacts the handle.
func (Handle) String() string { return "[key ceremony handle]" }

func (h Handle) hash() []byte { return Token(h).Hash() }

// Key is a registered security key as its owner sees it.
type Key struct {
	ID         []byte
	Name       string
	CreatedAt  time.Time
	LastUsedAt time.Time
}

// Ref is the key's id as pages name it (base64url).
func (k Key) Ref() string { return base64.RawURLEncoding.EncodeToString(k.ID) }

// Factors are a staff member's second factors.
type Factors struct {
	Keys []Key
	TOTP bool
}

// user is a staff member as the WebAuthn library sees them.
type user struct {
	m     store.StaffMember
	creds []webauthn.Credential
}

func (u user) WebAuthnID() []byte                         { return []byte(u.m.ID.Ref()) }
func (u user) WebAuthnName() string                       { return u.m.Login }
func (u user) WebAuthnDisplayName() string                { return u.m.Name }
func (u user) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// loadUser returns the staff member with their keys; the stored counter,
// not the one in the credential record, is the one compared.
func (k *Keys) loadUser(ctx context.Context, id store.StaffID) (user, error) {
	m, err := k.s.store.StaffByID(ctx, id)
	if err != nil {
		return user{}, fmt.Errorf("staff: keys: %w", err)
	}
	stored, err := k.s.store.StaffKeysOf(ctx, id)
	if err != nil {
		return user{}, fmt.Errorf("staff: keys: %w", err)
	}
	u := user{m: m}
	for _, sk := range stored {
		var c webauthn.Credential
		if err := json.Unmarshal(sk.Credential, &c); err != nil {
			return user{}, fmt.Errorf("staff: keys: decode %x: %w", sk.ID, err)
		}
		c.Authenticator.SignCount, c.Authenticator.CloneWarning = uint32(sk.SignCount), false
		u.creds = append(u.creds, c)
	}
	return u, nil
}

// challenge stores sd under a fresh handle.
func (k *Keys) challenge(ctx context.Context, id store.StaffID, kind string, sd *webauthn.SessionData) (Handle, error) {
	data, err := json.Marshal(sd)
	if err != nil {
		return "", fmt.Errorf("staff: keys: %w", err)
	}
	tok, err := newToken()
	if err != nil {
		return "", err
	}
	h := Handle(tok)
	now := k.s.now()
	if err := k.s.store.AddStaffChallenge(ctx, store.StaffChallenge{HandleHash: h.hash(), StaffID: id, Kind: kind, Data: data,
		ExpiresAt: now.Add(k.ttl).UTC().Truncate(time.Microsecond)}, now); err != nil {
		return "", fmt.Errorf("staff: keys: %w", err)
	}
	return h, nil
}

// take takes the challenge of h (once); ErrKeyRefused if there is none of
// kind, or it expired.
func (k *Keys) take(ctx context.Context, h Handle, kind string) (store.StaffChallenge, webauthn.SessionData, error) {
	if h == "" || len(h) > 128 {
		return store.StaffChallenge{}, webauthn.SessionData{}, ErrKeyRefused
	}
	c, err := k.s.store.TakeStaffChallenge(ctx, h.hash(), kind, k.s.now())
	if errors.Is(err, store.ErrNotFound) {
		return store.StaffChallenge{}, webauthn.SessionData{}, ErrKeyRefused
	}
	if err != nil {
		return store.StaffChallenge{}, webauthn.SessionData{}, fmt.Errorf("staff: keys: %w", err)
	}
	var sd webauthn.SessionData
	if err := json.Unmarshal(c.Data, &sd); err != nil {
		return store.StaffChallenge{}, webauthn.SessionData{}, fmt.Errorf("staff: keys: decode challenge: %w", err)
	}
	return c, sd, nil
}

// BeginKey starts registering a key for the signed-in m: the handle for
// the browser's cookie and the options for navigator.credentials.create.
func (k *Keys) BeginKey(ctx context.Context, m Member) (Handle, []byte, error) {
	if err := k.fresh(m); err != nil {
		return "", nil, err
	}
	u, err := k.loadUser(ctx, m.ID)
	if err != nil {
		return "", nil, err
	}
	exclude := make([]protocol.CredentialDescriptor, 0, len(u.creds))
	for _, c := range u.creds {
		exclude = append(exclude, c.Descriptor())
	}
	opts, sd, err := k.wa.BeginRegistration(u, webauthn.WithExclusions(exclude),
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			ResidentKey: protocol.ResidentKeyRequirementDiscouraged, UserVerification: protocol.VerificationPreferred}),
		webauthn.WithConveyancePreference(protocol.PreferNoAttestation))
	if err != nil {
		return "", nil, fmt.Errorf("staff: keys: begin registration: %w", err)
	}
	h, err := k.challenge(ctx, m.ID, kindRegister, sd)
	if err != nil {
		return "", nil, err
	}
	b, err := json.Marshal(opts)
	if err != nil {
		return "", nil, fmt.Errorf("staff: keys: %w", err)
	}
	return h, b, nil
}

// CheckKeyName returns the trimmed name of a key, or ErrInvalid.
func CheckKeyName(name string) (string, error) {
	n := strings.TrimSpace(name)
	if n == "" || !utf8.ValidString(n) || utf8.RuneCountInString(n) > MaxKeyName || strings.ContainsFunc(n, isControl) {
		return "", ErrInvalid
	}
	return n, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// FinishKey stores the key the browser created for m's ceremony h, named
// name. ErrInvalid for a bad name (the challenge stays), ErrKeyRefused for
// an answer that does not verify (the challenge is used up).
func (k *Keys) FinishKey(ctx context.Context, m Member, h Handle, name, response, clientIP string) (Key, error) {
	if err := k.fresh(m); err != nil {
		return Key{}, err
	}
	name, err := CheckKeyName(name)
	if err != nil {
		return Key{}, err
	}
	c, sd, err := k.take(ctx, h, kindRegister)
	if err != nil {
		return Key{}, err
	}
	if c.StaffID != m.ID {
		return Key{}, ErrKeyRefused
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes([]byte(response))
	if err != nil {
		return Key{}, ErrKeyRefused
	}
	u, err := k.loadUser(ctx, m.ID)
	if err != nil {
		return Key{}, err
	}
	cred, err := k.wa.CreateCredential(u, sd, parsed)
	if err != nil {
		k.s.logger.Info("staff: key registration refused", slog.String("staff", m.ID.Ref()), slog.Any("error", err))
		return Key{}, ErrKeyRefused
	}
	rec, err := json.Marshal(cred)
	if err != nil {
		return Key{}, fmt.Errorf("staff: keys: %w", err)
	}
	now := k.s.now().UTC().Truncate(time.Microsecond)
	sk := store.StaffKey{ID: cred.ID, StaffID: m.ID, Name: name, Credential: rec, SignCount: int64(cred.Authenticator.SignCount), CreatedAt: now}
	if err := k.s.store.AddStaffKey(ctx, sk); errors.Is(err, store.ErrConflict) {
		return Key{}, ErrKeyRefused
	} else if err != nil {
		return Key{}, fmt.Errorf("staff: keys: %w", err)
	}
	k.s.record(ctx, audit.Event{Actor: m.ID.Ref(), Event: "staff.key_added", Subject: m.ID.Ref(), ClientIP: clientIP,
		Details: map[string]any{"key": Key{ID: cred.ID}.Ref()}})
	return Key{ID: cred.ID, Name: name, CreatedAt: now}, nil
}

// Factors lists m's second factors.
func (k *Keys) Factors(ctx context.Context, m Member) (Factors, error) {
	st, err := k.s.store.StaffByID(ctx, m.ID)
	if err != nil {
		return Factors{}, fmt.Errorf("staff: keys: %w", err)
	}
	stored, err := k.s.store.StaffKeysOf(ctx, m.ID)
	if err != nil {
		return Factors{}, fmt.Errorf("staff: keys: %w", err)
	}
	f := Factors{TOTP: len(st.TOTPSecret.Ciphertext) > 0}
	for _, sk := range stored {
		f.Keys = append(f.Keys, Key{ID: sk.ID, Name: sk.Name, CreatedAt: sk.CreatedAt, LastUsedAt: sk.LastUsedAt})
	}
	return f, nil
}

// Remove removes m's key named by ref, or, when ref is "totp", m's TOTP
// secret. ErrNoKey, ErrLastFactor.
func (k *Keys) Remove(ctx context.Context, m Member, ref, clientIP string) error {
	if err := k.fresh(m); err != nil {
		return err
	}
	var id []byte
	event := "staff.totp_removed"
	details := map[string]any{}
	if ref != "totp" {
		b, err := base64.RawURLEncoding.DecodeString(ref)
		if err != nil || len(b) == 0 || len(b) > 1023 {
			return ErrNoKey
		}
		id, event, details["key"] = b, "staff.key_removed", ref
	}
	err := k.s.store.RemoveStaffFactor(ctx, m.ID, id, k.s.now())
	switch {
	case errors.Is(err, store.ErrNotFound):
		return ErrNoKey
	case errors.Is(err, store.ErrConflict):
		return ErrLastFactor
	case err != nil:
		return fmt.Errorf("staff: keys: remove: %w", err)
	}
	k.s.record(ctx, audit.Event{Actor: m.ID.Ref(), Event: event, Subject: m.ID.Ref(), ClientIP: clientIP, Details: details})
	return nil
}

// BeginKeyLogin is a login's first step with a security key: it checks
// login and password as Login does (one attempt counted, every failure
// ErrLoginFailed, also for a staff member without a key) and returns the
// handle and the options for navigator.credentials.get.
func (k *Keys) BeginKeyLogin(ctx context.Context, login, password, clientIP string) (Handle, []byte, error) {
	m, err := k.s.checkPassword(ctx, login, password, clientIP)
	if err != nil {
		return "", nil, err
	}
	u, err := k.loadUser(ctx, m.ID)
	if err != nil {
		return "", nil, err
	}
	if len(u.creds) == 0 {
		k.s.failed(ctx, m.ID, "no_key", clientIP)
		return "", nil, ErrLoginFailed
	}
	opts, sd, err := k.wa.BeginLogin(u, webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return "", nil, fmt.Errorf("staff: keys: begin login: %w", err)
	}
	h, err := k.challenge(ctx, m.ID, kindLogin, sd)
	if err != nil {
		return "", nil, err
	}
	b, err := json.Marshal(opts)
	if err != nil {
		return "", nil, fmt.Errorf("staff: keys: %w", err)
	}
	return h, b, nil
}

// FinishKeyLogin is a login's second step: the browser's assertion for
// the challenge of h. A verified assertion with a counter above the stored
// one starts a session (and ends the run of failures); anything else is
// ErrLoginFailed, recorded.
func (k *Keys) FinishKeyLogin(ctx context.Context, h Handle, response, clientIP, userAgent string) (Token, Member, error) {
	c, sd, err := k.take(ctx, h, kindLogin)
	if errors.Is(err, ErrKeyRefused) {
		return "", Member{}, ErrLoginFailed
	}
	if err != nil {
		return "", Member{}, err
	}
	u, err := k.loadUser(ctx, c.StaffID)
	if err != nil {
		return "", Member{}, err
	}
	if !u.m.DisabledAt.IsZero() {
		k.s.failed(ctx, u.m.ID, "disabled", clientIP)
		return "", Member{}, ErrLoginFailed
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes([]byte(response))
	if err != nil {
		k.s.failed(ctx, u.m.ID, "key", clientIP)
		return "", Member{}, ErrLoginFailed
	}
	cred, err := k.wa.ValidateLogin(u, sd, parsed)
	if err != nil {
		k.s.logger.Info("staff: key login refused", slog.String("staff", u.m.ID.Ref()), slog.Any("error", err))
		k.s.failed(ctx, u.m.ID, "key", clientIP)
		return "", Member{}, ErrLoginFailed
	}
	count := int64(parsed.Response.AuthenticatorData.Counter)
	clone := cred.Authenticator.CloneWarning
	if !clone {
		err := k.s.store.UseStaffKey(ctx, u.m.ID, cred.ID, count, k.s.now())
		if errors.Is(err, store.ErrConflict) {
			clone = true
		} else if err != nil {
			return "", Member{}, fmt.Errorf("staff: keys: %w", err)
		}
	}
	if clone {
		k.s.record(ctx, audit.Event{Actor: u.m.ID.Ref(), Event: "staff.key_clone_suspected", Subject: u.m.ID.Ref(), ClientIP: clientIP,
			Details: map[string]any{"key": Key{ID: cred.ID}.Ref(), "counter": count}})
		k.s.failed(ctx, u.m.ID, "key_clone", clientIP)
		return "", Member{}, ErrLoginFailed
	}
	return k.s.startSession(ctx, u.m.ID, clientIP, userAgent, "key", Key{ID: cred.ID}.Ref())
}

// FactorChangeWindow is how long after signing in a staff member may add or
// remove a second factor. Later, a session someone else took over (an
// unlocked workstation, a stolen cookie) must not swap the member's
// factors: the member signs in again, with password and factor.
const FactorChangeWindow = 10 * time.Minute

// ErrSignInTooOld refuses a factor change in a session that began more
// than FactorChangeWindow ago.
var ErrSignInTooOld = errors.New("staff: sign in again to change second factors")

// fresh checks that m's session began within FactorChangeWindow.
func (k *Keys) fresh(m Member) error {
	if m.SignedInAt.IsZero() || k.s.now().Sub(m.SignedInAt) > FactorChangeWindow {
		return ErrSignInTooOld
	}
	return nil
}
