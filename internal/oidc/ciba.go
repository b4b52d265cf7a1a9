package oidc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/device"
	"github.com/pforte/pforte/internal/field"
	"github.com/pforte/pforte/internal/jsonstrict"
	"github.com/pforte/pforte/internal/registry"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// Limits of a backchannel authentication request.
const (
	maxBindingRunes = 64
	maxDetailsBytes = 2048
	maxDetails      = 8
	slowDownStep    = 5 * time.Second
)

// cibaData is what a CIBA approval carries and the phone signs (with the
// display text): re-built from the stored request when tokens are issued, so
// that tokens are issued only for exactly what was approved.
type cibaData struct {
	Client               string          `json:"client"`
	Scope                string          `json:"scope"`
	BindingMessage       string          `json:"binding_message"`
	AuthorizationDetails json.RawMessage `json:"authorization_details"`
}

func (c *cibaData) bytes() ([]byte, error) { return json.Marshal(c) }

// The error codes of CIBA and RFC 9396 that package oidc does not name.
const (
	errKindBindingMessage = "invalid_binding_message"
	errKindDetails        = "invalid_authorization_details"
	errKindExpired        = "expired_token"
)

// cibaService runs CIBA in poll mode on plain values: Start asks the
// person's phone, Redeem answers a poll. The handlers in routes.go decode
// the HTTP requests, call one of them and render the answer.
type cibaService struct {
	cfg       Config // the poll interval, the lifetime, the issuer
	st        Store
	clients   *clients
	persons   Persons
	approvals Approvals
	tokens    op.TokenCreator // op's, to issue the tokens
	clock     clock
	rec       recorder
}

// cibaRequest is a backchannel authentication request (CIBA core 7.1) as
// its client sent it.
type cibaRequest struct {
	Scopes               []string
	ACRValues            []string
	LoginHint            string // a KVNR
	BindingMessage       string
	AuthorizationDetails string // an RFC 9396 JSON array
}

// cibaStarted is a started request: the auth_req_id the client polls with,
// how long it may poll, and how often.
type cibaStarted struct {
	AuthReqID string
	ExpiresIn time.Duration
	Interval  time.Duration
}

// cibaError is a refused CIBA request or poll: the OAuth error code the
// client is told (CIBA core 11 and 13, RFC 6749 5.2, RFC 9396 5) and why.
type cibaError struct {
	code, desc string
	interval   time.Duration // slow_down: the interval the client must keep now
	status     int           // the HTTP status; zero for 400
}

func (e *cibaError) Error() string {
	if e.desc == "" {
		return "oidc: CIBA: " + e.code
	}
	return "oidc: CIBA: " + e.code + ": " + e.desc
}

func cibaRefusal[K ~string](code K, desc string) *cibaError {
	return &cibaError{code: string(code), desc: desc}
}

// The answers to a poll that are not tokens, but for slow_down.
var (
	errCIBAPending = cibaRefusal(oidc.AuthorizationPending, "")
	errCIBADenied  = cibaRefusal(oidc.AccessDenied, "the person declined")
	errCIBAExpired = cibaRefusal(errKindExpired, "the request expired")
	// errCIBAUnknown is a request that is unknown, another client's or
	// redeemed already.
	errCIBAUnknown = cibaRefusal(oidc.InvalidGrant, "auth_req_id is unknown or was already redeemed")
)

// errCIBALocked refuses a request at once when the person's Freigabe-PIN is
// locked on every bound phone: nobody could approve it (403, CIBA core 13).
var errCIBALocked = &cibaError{code: string(oidc.AccessDenied), status: http.StatusForbidden,
	desc: "the person's approval PIN is locked on every bound phone; they can unlock it in the portal under \"Meine Geräte\""}

// Start asks the person whose KVNR req.LoginHint is to approve on the phone
// exactly the binding message and authorization_details client c sent, and
// stores the request. An unknown KVNR, a person without a phone, and a
// person with too many unanswered requests get the same answer as anyone
// else: the request then stays pending until it expires. A person whose PIN
// is locked on every phone is refused at once (errCIBALocked): the client
// can tell them how to unlock instead of waiting. A refused request
// is a *cibaError; any other error is the server's.
func (s *cibaService) Start(ctx context.Context, c *client, req cibaRequest) (cibaStarted, error) {
	if !c.cfg.CIBA {
		return cibaStarted{}, cibaRefusal(oidc.UnauthorizedClient, "the client may not use CIBA")
	}
	scopes := slices.Clone(req.Scopes)
	if !slices.Contains(scopes, ScopeOpenID) || len(scopes) > 8 {
		return cibaStarted{}, cibaRefusal(oidc.InvalidScope, "scope must contain openid")
	}
	for _, sc := range scopes {
		if !c.IsScopeAllowed(sc) || sc == ScopeOfflineAccess {
			return cibaStarted{}, cibaRefusal(oidc.InvalidScope, "scope "+sc+" is not allowed")
		}
	}
	slices.Sort(scopes)
	scopes = slices.Compact(scopes)
	level, ok := c.levelFor(req.ACRValues)
	if !ok {
		return cibaStarted{}, cibaRefusal(oidc.AccessDenied, "acr_values: no requested level is available to this client")
	}
	if level.Rank() < session.LevelSubstantial.Rank() {
		level = session.LevelSubstantial // a phone approval is at least substantial
	}
	if !registry.ValidKVNR(req.LoginHint) {
		return cibaStarted{}, cibaRefusal(oidc.InvalidRequest, "login_hint must be a KVNR")
	}
	bm := req.BindingMessage
	if !utf8.ValidString(bm) || utf8.RuneCountInString(bm) > maxBindingRunes || strings.ContainsFunc(bm, isControl) {
		return cibaStarted{}, cibaRefusal(errKindBindingMessage, fmt.Sprintf("binding_message must be at most %d characters without control characters", maxBindingRunes))
	}
	details, shown, err := parseDetails(req.AuthorizationDetails, c.cfg.AuthorizationDetailsTypes)
	if err != nil {
		return cibaStarted{}, cibaRefusal(errKindDetails, err.Error())
	}
	text := c.cfg.Name + " bittet um Ihre Freigabe."
	if bm != "" {
		text += "\nKennung: " + bm
	}
	text += shown
	if utf8.RuneCountInString(text) > approval.MaxTextRunes {
		return cibaStarted{}, cibaRefusal(errKindDetails, "the request is too long to be shown on the phone")
	}
	data, err := (&cibaData{Client: c.cfg.ID, Scope: strings.Join(scopes, " "), BindingMessage: bm, AuthorizationDetails: details}).bytes()
	if err != nil {
		return cibaStarted{}, err
	}
	// From here on the person's existence decides the work: every answer
	// waits until the same moment (work that took longer is not padded).
	defer padUntil(ctx, time.Now().Add(s.cfg.CIBAMinTime))
	now := s.clock.now()
	authReqID := randomSecret()
	cr := store.CIBARequest{Hash: digest(authReqID), ID: randomID(), ClientID: c.cfg.ID, Scopes: scopes, ACR: string(level),
		BindingMessage: bm, AuthorizationDetails: details, Interval: s.cfg.PollInterval, CreatedAt: now,
		ExpiresAt: now.Add(s.cfg.CIBATTL)}
	person, err := s.persons.PersonByKVNR(ctx, req.LoginHint)
	var personLocked bool
	if err == nil {
		personLocked, err = locked(ctx, s.st, person.ID)
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return cibaStarted{}, fmt.Errorf("oidc: CIBA person: %w", err)
	case personLocked:
		// Staff locked the person's access: like an unknown person, no
		// request reaches the phone.
	default:
		a, err := s.approvals.CreateForClient(ctx, person.ID, text, data, string(level), "client:"+c.cfg.ID)
		switch {
		case errors.Is(err, approval.ErrNoDevice), errors.Is(err, approval.ErrNotFound), errors.Is(err, approval.ErrTooManyPending):
			// Like an unknown person: pending until it expires. Too many
			// unanswered requests (push fatigue) look the same.
		case errors.Is(err, approval.ErrDevicesLocked):
			return cibaStarted{}, errCIBALocked
		case err != nil:
			var inv *field.Error
			if errors.As(err, &inv) {
				return cibaStarted{}, cibaRefusal(errKindDetails, "the request cannot be shown on the phone")
			}
			return cibaStarted{}, fmt.Errorf("oidc: CIBA approval: %w", err)
		default:
			cr.PersonID, cr.ApprovalID, cr.ExpiresAt = person.ID, a.ID, a.ExpiresAt
		}
	}
	if err := s.st.CreateCIBARequest(ctx, cr); err != nil {
		return cibaStarted{}, fmt.Errorf("oidc: store CIBA request: %w", err)
	}
	subject := "unknown"
	if cr.PersonID != 0 {
		subject = personRef(cr.PersonID)
	}
	s.rec.record(ctx, audit.Event{Actor: "client:" + c.cfg.ID, Event: "oidc.ciba_requested", Subject: subject,
		Details: map[string]any{"client": c.cfg.ID, "request": cr.ID, "approval": cr.ApprovalID, "level": string(level)}})
	return cibaStarted{AuthReqID: authReqID, ExpiresIn: cr.ExpiresAt.Sub(now), Interval: cr.Interval}, nil
}

// cibaTokenResponse is the token response of the CIBA grant: the standard
// one plus the authorization_details the person approved (RFC 9396 7).
type cibaTokenResponse struct {
	*oidc.AccessTokenResponse
	AuthorizationDetails json.RawMessage `json:"authorization_details"`
}

// Redeem answers client c's poll of the request authReqID (CIBA core 10.1
// and 11). It returns the tokens when the person approved, once: of any
// number of polls, on any number of nodes, at most one gets them. Otherwise
// a *cibaError: slow_down when polled sooner than the interval after the
// last poll (the interval then grows by 5 seconds), errCIBAPending,
// errCIBADenied, errCIBAExpired (also for a request a newer one of the
// client withdrew), and errCIBAUnknown for an unknown, another client's or
// a redeemed request. Any other error is the server's.
func (s *cibaService) Redeem(ctx context.Context, c *client, authReqID string) (*cibaTokenResponse, error) {
	if authReqID == "" || len(authReqID) > 128 {
		return nil, cibaRefusal(oidc.InvalidRequest, "auth_req_id is missing")
	}
	now := s.clock.now()
	var slow bool
	req, err := s.st.UpdateCIBARequest(ctx, digest(authReqID), func(cr *store.CIBARequest) error {
		slow = false
		switch {
		case cr.ClientID != c.cfg.ID, !cr.IssuedAt.IsZero():
			return errCIBAUnknown
		case !now.Before(cr.ExpiresAt):
			return errCIBAExpired
		}
		if !cr.LastPollAt.IsZero() && now.Before(cr.LastPollAt.Add(cr.Interval)) {
			cr.Interval += slowDownStep
			slow = true
		}
		cr.LastPollAt = now
		return nil
	})
	var refused *cibaError
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, errCIBAUnknown
	case errors.As(err, &refused):
		return nil, refused
	case err != nil:
		return nil, fmt.Errorf("oidc: CIBA poll: %w", err)
	case slow:
		return nil, &cibaError{code: string(oidc.SlowDown), desc: fmt.Sprintf("poll at most every %d seconds", int(req.Interval.Seconds())),
			interval: req.Interval}
	case req.PersonID == 0:
		return nil, errCIBAPending
	}
	a, err := s.approvals.Status(ctx, req.ApprovalID, req.PersonID)
	if err != nil {
		return nil, fmt.Errorf("oidc: CIBA approval: %w", err)
	}
	switch a.Status {
	case store.ApprovalPending:
		return nil, errCIBAPending
	case store.ApprovalDeclined:
		return nil, errCIBADenied
	case store.ApprovalExpired, store.ApprovalWithdrawn:
		return nil, errCIBAExpired
	}
	// Staff locked the person's access after the phone approved: refused.
	if l, err := locked(ctx, s.st, req.PersonID); err != nil {
		return nil, err
	} else if l {
		return nil, errCIBADenied
	}
	data, err := (&cibaData{Client: req.ClientID, Scope: strings.Join(req.Scopes, " "), BindingMessage: req.BindingMessage,
		AuthorizationDetails: req.AuthorizationDetails}).bytes()
	if err != nil {
		return nil, err
	}
	if err := s.approvals.Redeem(ctx, req.ApprovalID, req.PersonID, data); err != nil {
		if errors.Is(err, approval.ErrUsed) || errors.Is(err, approval.ErrNotApproved) || errors.Is(err, approval.ErrDataChanged) {
			return nil, errCIBAUnknown
		}
		return nil, fmt.Errorf("oidc: use CIBA approval: %w", err)
	}
	if _, err := s.st.UpdateCIBARequest(ctx, req.Hash, func(cr *store.CIBARequest) error {
		cr.IssuedAt = now
		return nil
	}); err != nil {
		return nil, fmt.Errorf("oidc: mark CIBA request redeemed: %w", err)
	}
	// What the phone proved, not what its app reported (a.Method): the
	// device key and the PIN key signed, device.VerifiedAMR.
	g := &cibaGrant{c: req, subject: s.clients.subject(c, req.PersonID), authTime: a.AnsweredAt, amr: append(device.VerifiedAMR(), "mfa"),
		acr: session.Level(a.Level).ACR()}
	resp, err := op.CreateTokenResponse(op.ContextWithIssuer(ctx, s.cfg.Issuer), g, c, s.tokens, true, "", "")
	if err != nil {
		return nil, fmt.Errorf("oidc: CIBA tokens: %w", err)
	}
	return &cibaTokenResponse{AccessTokenResponse: resp, AuthorizationDetails: req.AuthorizationDetails}, nil
}

// isControl reports characters that could change how the phone shows a text
// rather than be shown: control characters, line and paragraph separators,
// and format characters (bidirectional overrides, zero-width characters):
// whatever approval.DisplaySafe refuses.
func isControl(r rune) bool {
	return !approval.DisplaySafe(string(r), false)
}

// parseDetails checks RFC 9396 authorization_details: a JSON array of 1 to
// maxDetails objects, each with a "type" the client may use, strings without
// control characters, and no object (at any depth) naming a member twice.
// It returns the canonical encoding (what is stored, signed and put into
// tokens) and the German lines the phone shows (details.go): a sentence per
// known type and every other member in plain words, so that nothing
// approved is hidden.
func parseDetails(raw string, allowed []string) (json.RawMessage, string, error) {
	if raw == "" {
		return nil, "", errors.New("authorization_details is required")
	}
	if len(raw) > maxDetailsBytes || !utf8.ValidString(raw) {
		return nil, "", fmt.Errorf("authorization_details must be at most %d bytes of UTF-8", maxDetailsBytes)
	}
	// encoding/json would keep the last of two members with one name, and
	// the phone would show what the client's own system may read otherwise.
	var dup *jsonstrict.DuplicateError
	if err := jsonstrict.Check([]byte(raw)); errors.As(err, &dup) {
		return nil, "", errors.New("authorization_details must not name a member twice in one object")
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var list []map[string]any
	if err := dec.Decode(&list); err != nil || dec.More() {
		return nil, "", errors.New("authorization_details must be a JSON array of objects")
	}
	if len(list) == 0 || len(list) > maxDetails {
		return nil, "", fmt.Errorf("authorization_details must have 1 to %d entries", maxDetails)
	}
	for _, d := range list {
		if t, _ := d["type"].(string); !slices.Contains(allowed, t) {
			return nil, "", errors.New("authorization_details type is missing or not allowed for this client")
		}
	}
	canon, err := json.Marshal(list)
	if err != nil {
		return nil, "", errors.New("authorization_details cannot be encoded")
	}
	var shown strings.Builder
	for _, d := range list {
		t := d["type"].(string)
		delete(d, "type")
		text, err := showDetail(t, d)
		if err != nil {
			return nil, "", errors.New("authorization_details contain control characters or empty names")
		}
		shown.WriteString(text)
	}
	return canon, shown.String(), nil
}

// showValue renders one value for the phone: strings as they are, yes/no,
// numbers and nested values as compact JSON.
func showValue(v any) (string, error) {
	switch x := v.(type) {
	case string:
		if strings.ContainsFunc(x, isControl) {
			return "", errors.New("control character")
		}
		return x, nil
	case bool:
		if x {
			return "ja", nil
		}
		return "nein", nil
	case json.Number:
		return x.String(), nil
	case nil:
		return "(leer)", nil
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	s := strings.TrimSpace(b.String())
	if strings.ContainsFunc(s, isControl) {
		return "", errors.New("control character")
	}
	return s, nil
}

// padUntil waits until deadline (on the monotonic clock), or until ctx ends.
func padUntil(ctx context.Context, deadline time.Time) {
	if wait := time.Until(deadline); wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
	}
}
