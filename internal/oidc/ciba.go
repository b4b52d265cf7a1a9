package oidc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
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

// cibaResponse is the backchannel endpoint's answer.
type cibaResponse struct {
	AuthReqID string `json:"auth_req_id"`
	ExpiresIn int64  `json:"expires_in"`
	Interval  int64  `json:"interval"`
}

// backchannel is the CIBA backchannel authentication endpoint (poll mode):
// it asks the person named by login_hint (a KVNR) to approve, on the phone,
// exactly the binding_message and authorization_details of the request. An
// unknown KVNR, or a person without a phone, gets the same answer, and the
// request then stays pending until it expires.
func (p *Provider) backchannel(rw http.ResponseWriter, r *http.Request) {
	res, err := p.startCIBA(r)
	p.answers.answer(rw, r, "backchannel authentication", res, err)
}

func (p *Provider) startCIBA(r *http.Request) (cibaResponse, error) {
	c, oe := p.clients.basic(r)
	if oe != nil {
		return cibaResponse{}, oe
	}
	if !c.cfg.CIBA {
		return cibaResponse{}, badRequest(oidc.UnauthorizedClient, "the client may not use CIBA")
	}
	f := r.PostForm
	for _, name := range []string{"login_hint_token", "id_token_hint", "user_code", "request", "client_notification_token"} {
		if f.Get(name) != "" {
			return cibaResponse{}, badRequest(oidc.InvalidRequest, name+" is not supported: use login_hint (poll mode)")
		}
	}
	scopes := strings.Fields(f.Get("scope"))
	if !slices.Contains(scopes, ScopeOpenID) || len(scopes) > 8 {
		return cibaResponse{}, badRequest(oidc.InvalidScope, "scope must contain openid")
	}
	for _, s := range scopes {
		if !c.IsScopeAllowed(s) || s == ScopeOfflineAccess {
			return cibaResponse{}, badRequest(oidc.InvalidScope, "scope "+s+" is not allowed")
		}
	}
	slices.Sort(scopes)
	scopes = slices.Compact(scopes)
	level, ok := c.levelFor(strings.Fields(f.Get("acr_values")))
	if !ok {
		return cibaResponse{}, badRequest(oidc.AccessDenied, "acr_values: no requested level is available to this client")
	}
	if level.Rank() < session.LevelSubstantial.Rank() {
		level = session.LevelSubstantial // a phone approval is at least substantial
	}
	hint := f.Get("login_hint")
	if !registry.ValidKVNR(hint) {
		return cibaResponse{}, badRequest(oidc.InvalidRequest, "login_hint must be a KVNR")
	}
	bm := f.Get("binding_message")
	if !utf8.ValidString(bm) || utf8.RuneCountInString(bm) > maxBindingRunes || strings.ContainsFunc(bm, isControl) {
		return cibaResponse{}, badRequest(errKindBindingMessage, fmt.Sprintf("binding_message must be at most %d characters without control characters", maxBindingRunes))
	}
	details, shown, err := parseDetails(f.Get("authorization_details"), c.cfg.AuthorizationDetailsTypes)
	if err != nil {
		return cibaResponse{}, badRequest(errKindDetails, err.Error())
	}
	text := c.cfg.Name + " bittet um Ihre Freigabe."
	if bm != "" {
		text += "\nKennung: " + bm
	}
	text += shown
	if utf8.RuneCountInString(text) > approval.MaxTextRunes {
		return cibaResponse{}, badRequest(errKindDetails, "the request is too long to be shown on the phone")
	}
	data, err := (&cibaData{Client: c.cfg.ID, Scope: strings.Join(scopes, " "), BindingMessage: bm, AuthorizationDetails: details}).bytes()
	if err != nil {
		return cibaResponse{}, err
	}
	now := p.clock.now()
	authReqID := randomSecret()
	req := store.CIBARequest{Hash: digest(authReqID), ID: randomID(), ClientID: c.cfg.ID, Scopes: scopes, ACR: string(level),
		BindingMessage: bm, AuthorizationDetails: details, Interval: p.cfg.PollInterval, CreatedAt: now,
		ExpiresAt: now.Add(p.cfg.CIBATTL)}
	person, err := p.persons.PersonByKVNR(r.Context(), hint)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return cibaResponse{}, err
	default:
		a, err := p.approvals.CreateForClient(r.Context(), person.ID, text, data, string(level), "client:"+c.cfg.ID)
		switch {
		case errors.Is(err, approval.ErrNoDevice), errors.Is(err, approval.ErrNotFound), errors.Is(err, approval.ErrTooManyPending):
			// Like an unknown person: pending until it expires. Too many
			// unanswered requests (push fatigue) look the same.
		case err != nil:
			var inv *field.Error
			if errors.As(err, &inv) {
				return cibaResponse{}, badRequest(errKindDetails, "the request cannot be shown on the phone")
			}
			return cibaResponse{}, err
		default:
			req.PersonID, req.ApprovalID, req.ExpiresAt = person.ID, a.ID, a.ExpiresAt
		}
	}
	if err := p.st.CreateCIBARequest(r.Context(), req); err != nil {
		return cibaResponse{}, fmt.Errorf("oidc: store CIBA request: %w", err)
	}
	subject := "unknown"
	if req.PersonID != 0 {
		subject = personRef(req.PersonID)
	}
	p.rec.record(r.Context(), audit.Event{Actor: "client:" + c.cfg.ID, Event: "oidc.ciba_requested", Subject: subject,
		Details: map[string]any{"client": c.cfg.ID, "request": req.ID, "approval": req.ApprovalID, "level": string(level)}})
	return cibaResponse{AuthReqID: authReqID, ExpiresIn: int64(req.ExpiresAt.Sub(now).Seconds()), Interval: int64(req.Interval.Seconds())}, nil
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
// tokens) and the German lines the phone shows: every member of every
// object, so that nothing approved is hidden.
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
	var shown strings.Builder
	for _, d := range list {
		t, _ := d["type"].(string)
		if !slices.Contains(allowed, t) {
			return nil, "", errors.New("authorization_details type is missing or not allowed for this client")
		}
		shown.WriteString("\n" + t + ":")
		keys := make([]string, 0, len(d))
		for k := range d {
			if k != "type" {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			v, err := showValue(d[k])
			if err != nil || strings.ContainsFunc(k, isControl) || k == "" {
				return nil, "", errors.New("authorization_details contain control characters or empty names")
			}
			shown.WriteString("\n  " + k + ": " + v)
		}
	}
	canon, err := json.Marshal(list)
	if err != nil {
		return nil, "", errors.New("authorization_details cannot be encoded")
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

// Errors of the CIBA poll, inside the store update.
var (
	errCIBAUnknown = errors.New("oidc: unknown CIBA request")
	errCIBAIssued  = errors.New("oidc: CIBA request already redeemed")
	errCIBAExpired = errors.New("oidc: CIBA request expired")
)

// cibaTokenResponse is the token response of the CIBA grant: the standard
// one plus the authorization_details the person approved (RFC 9396 7).
type cibaTokenResponse struct {
	*oidc.AccessTokenResponse
	AuthorizationDetails json.RawMessage `json:"authorization_details"`
}

// cibaToken answers the CIBA grant at the token endpoint (poll mode, CIBA
// core 11 and 13).
func (p *Provider) cibaToken(rw http.ResponseWriter, r *http.Request) {
	res, err := p.redeemCIBA(r)
	p.answers.answer(rw, r, "CIBA token", res, err)
}

func (p *Provider) redeemCIBA(r *http.Request) (*cibaTokenResponse, error) {
	c, oe := p.clients.basic(r)
	if oe != nil {
		return nil, oe
	}
	id := r.PostForm.Get("auth_req_id")
	if id == "" || len(id) > 128 {
		return nil, badRequest(oidc.InvalidRequest, "auth_req_id is missing")
	}
	now := p.clock.now()
	var slow bool
	req, err := p.st.UpdateCIBARequest(r.Context(), digest(id), func(cr *store.CIBARequest) error {
		slow = false
		switch {
		case cr.ClientID != c.cfg.ID:
			return errCIBAUnknown
		case !cr.IssuedAt.IsZero():
			return errCIBAIssued
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
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, errCIBAUnknown), errors.Is(err, errCIBAIssued):
		return nil, badRequest(oidc.InvalidGrant, "auth_req_id is unknown or was already redeemed")
	case errors.Is(err, errCIBAExpired):
		return nil, badRequest(errKindExpired, "the request expired")
	case err != nil:
		return nil, err
	case slow:
		return nil, badRequest(oidc.SlowDown, fmt.Sprintf("poll at most every %d seconds", int(req.Interval.Seconds())))
	case req.PersonID == 0:
		return nil, badRequest(oidc.AuthorizationPending, "")
	}
	a, err := p.approvals.Status(r.Context(), req.ApprovalID, req.PersonID)
	if err != nil {
		return nil, fmt.Errorf("oidc: CIBA approval: %w", err)
	}
	switch a.Status {
	case store.ApprovalPending:
		return nil, badRequest(oidc.AuthorizationPending, "")
	case store.ApprovalDeclined:
		return nil, badRequest(oidc.AccessDenied, "the person declined")
	case store.ApprovalExpired, store.ApprovalWithdrawn:
		return nil, badRequest(errKindExpired, "the request expired")
	}
	data, err := (&cibaData{Client: req.ClientID, Scope: strings.Join(req.Scopes, " "), BindingMessage: req.BindingMessage,
		AuthorizationDetails: req.AuthorizationDetails}).bytes()
	if err != nil {
		return nil, err
	}
	if err := p.approvals.Redeem(r.Context(), req.ApprovalID, req.PersonID, data); err != nil {
		if errors.Is(err, approval.ErrUsed) || errors.Is(err, approval.ErrNotApproved) || errors.Is(err, approval.ErrDataChanged) {
			return nil, badRequest(oidc.InvalidGrant, "auth_req_id is unknown or was already redeemed")
		}
		return nil, fmt.Errorf("oidc: use CIBA approval: %w", err)
	}
	if _, err := p.st.UpdateCIBARequest(r.Context(), req.Hash, func(cr *store.CIBARequest) error {
		cr.IssuedAt = now
		return nil
	}); err != nil {
		return nil, fmt.Errorf("oidc: mark CIBA request redeemed: %w", err)
	}
	// What the phone proved, not what its app reported (a.Method): the
	// device key and the PIN key signed, device.VerifiedAMR.
	g := &cibaGrant{c: req, subject: p.clients.subject(c, req.PersonID), authTime: a.AnsweredAt, amr: append(device.VerifiedAMR(), "mfa"),
		acr: session.Level(a.Level).ACR()}
	ctx := op.ContextWithIssuer(r.Context(), p.cfg.Issuer)
	resp, err := op.CreateTokenResponse(ctx, g, c, p.op, true, "", "")
	if err != nil {
		return nil, fmt.Errorf("oidc: CIBA tokens: %w", err)
	}
	return &cibaTokenResponse{AccessTokenResponse: resp, AuthorizationDetails: req.AuthorizationDetails}, nil
}
