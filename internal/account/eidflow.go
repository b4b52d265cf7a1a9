package account

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/eid"
	"github.com/pforte/pforte/internal/proofing"
	"github.com/pforte/pforte/internal/registry"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// Purposes of an eID identification.
const (
	PurposeAccess = "access" // first access: prove identity, choose a password
	PurposeReset  = "reset"  // forgotten password: prove identity, choose a new one
)

// The outcomes of an eID identification the person is told about.
var (
	ErrEIDNoMatch   = errors.New("account: eid data do not match")
	ErrEIDCancelled = errors.New("account: eid cancelled")
	ErrEIDFailed    = errors.New("account: eid failed")
	// ErrEIDUnavailable: no identification partner is configured.
	ErrEIDUnavailable = errors.New("account: eid unavailable")
	// ErrTicket: the proof of identity expired or was used.
	ErrTicket = errors.New("account: identification ticket expired or used")
)

// EIDClient speaks to the identification partner (package eid).
type EIDClient interface {
	Start() (eid.AuthRequest, error)
	Finish(ctx context.Context, req eid.AuthRequest, gotState, code string) (proofing.Claims, error)
}

// Sealer seals flow state at rest (package seal).
type Sealer interface {
	SealFor(plaintext, aad []byte) (store.Sealed, error)
	OpenFor(s store.Sealed, aad []byte) ([]byte, error)
}

// IdentityStore is what the eID flow needs beyond Store.
type IdentityStore interface {
	ConsumeOneTime(ctx context.Context, kind string, digest []byte, now time.Time) (store.OneTime, error)
	OneTimeByDigest(ctx context.Context, kind string, digest []byte, now time.Time) (store.OneTime, error)
	AddIdentification(ctx context.Context, r store.Identification) error
	UpdatePerson(ctx context.Context, id store.PersonID, fn func(p *store.Person) error) (store.Person, error)
}

// One-time kinds of the eID flow.
const (
	flowKind   = "eid-flow"   // browser → partner → back: the pending request
	ticketKind = "eid-proven" // proven identity, waiting for a password
	flowTTL    = 15 * time.Minute
)

// EIDConfig wires the eID flow into Access.
type EIDConfig struct {
	Client  EIDClient
	Partner string // the partner's issuer, recorded with each identification
	Store   IdentityStore
	Sealer  Sealer
}

// EnableEID turns on identification with the eID card.
func (a *Access) EnableEID(cfg EIDConfig) { a.eid = &cfg }

// EIDStart is what the browser needs to go to the partner: where, and a value
// to keep (in a cookie) until it comes back.
type EIDStart struct {
	RedirectURL string
	Flow        string
}

type flowState struct {
	URL      string `json:"url"`
	KVNR     string `json:"kvnr"`
	Purpose  string `json:"purpose"`
	State    string `json:"state"`
	Nonce    string `json:"nonce"`
	Verifier string `json:"verifier"`
}

type sealedBlob struct {
	KeyID string `json:"k"`
	Data  []byte `json:"c"`
}

func randomToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("account: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// StartEID validates the request's shape and begins an identification at the
// partner. It does not look the person up: the answer is the same for every
// well-formed request, and the match happens when the partner has answered.
func (a *Access) StartEID(ctx context.Context, in AccessRequest, purpose string) (EIDStart, error) {
	if a.eid == nil {
		return EIDStart{}, ErrEIDUnavailable
	}
	if purpose != PurposeAccess && purpose != PurposeReset {
		return EIDStart{}, fmt.Errorf("account: unknown eid purpose %q", purpose)
	}
	kvnr, err := in.Validate(a.accounts.now())
	if err != nil {
		return EIDStart{}, err
	}
	req, err := a.eid.Client.Start()
	if err != nil {
		return EIDStart{}, fmt.Errorf("account: eid start: %w", err)
	}
	flow, err := randomToken()
	if err != nil {
		return EIDStart{}, err
	}
	plain, err := json.Marshal(flowState{URL: req.URL, KVNR: kvnr, Purpose: purpose, State: req.State.Reveal(),
		Nonce: req.Nonce.Reveal(), Verifier: req.Verifier.Reveal()})
	if err != nil {
		return EIDStart{}, err
	}
	digest := proofing.CodeDigest(flow)
	sealed, err := a.eid.Sealer.SealFor(plain, digest)
	if err != nil {
		return EIDStart{}, fmt.Errorf("account: eid start: %w", err)
	}
	blob, _ := json.Marshal(sealedBlob{KeyID: sealed.KeyID, Data: sealed.Ciphertext})
	now := a.accounts.now()
	if err := a.onetimes.PutOneTime(ctx, store.OneTime{Kind: flowKind, Digest: digest, Subject: "eid-flow",
		Data: blob, CreatedAt: now, ExpiresAt: now.Add(flowTTL)}); err != nil {
		return EIDStart{}, fmt.Errorf("account: eid start: %w", err)
	}
	a.accounts.record(ctx, audit.Event{Actor: "anonymous", Event: "proofing.eid_started", ClientIP: in.ClientIP,
		Details: map[string]any{"purpose": purpose}})
	return EIDStart{RedirectURL: req.URL, Flow: flow}, nil
}

// EIDRedirect returns the partner URL of a pending flow without using it up:
// an identification started through the API continues in a browser, which
// first fetches the flow's portal address (that sets the flow cookie) and is
// then sent on to the partner. ErrEIDFailed for an unknown or expired flow.
func (a *Access) EIDRedirect(ctx context.Context, flow string) (string, error) {
	if a.eid == nil {
		return "", ErrEIDUnavailable
	}
	if flow == "" || len(flow) > 64 {
		return "", ErrEIDFailed
	}
	digest := proofing.CodeDigest(flow)
	ot, err := a.eid.Store.OneTimeByDigest(ctx, flowKind, digest, a.accounts.now())
	if errors.Is(err, store.ErrNotFound) {
		return "", ErrEIDFailed
	}
	if err != nil {
		return "", fmt.Errorf("account: eid redirect: %w", err)
	}
	st, err := a.openFlow(ot.Data, digest)
	if err != nil {
		return "", err
	}
	return st.URL, nil
}

func (a *Access) openFlow(data, digest []byte) (flowState, error) {
	var blob sealedBlob
	if err := json.Unmarshal(data, &blob); err != nil {
		return flowState{}, fmt.Errorf("account: eid flow: %w", err)
	}
	plain, err := a.eid.Sealer.OpenFor(store.Sealed{KeyID: blob.KeyID, Ciphertext: blob.Data}, digest)
	if err != nil {
		return flowState{}, fmt.Errorf("account: eid flow: %w", err)
	}
	var st flowState
	if err := json.Unmarshal(plain, &st); err != nil {
		return flowState{}, fmt.Errorf("account: eid flow: %w", err)
	}
	return st, nil
}

// Proven is a proven identity waiting for a password.
type Proven struct {
	Ticket      string // single use, valid 15 minutes
	HasPassword bool   // the person had chosen a password before (a reset)
}

// FinishEID completes an identification: flow is the browser's value from
// StartEID, query the partner's redirect parameters. On a match it stores the
// identification record and returns a ticket for ChoosePassword.
func (a *Access) FinishEID(ctx context.Context, flow string, query url.Values, clientIP string) (Proven, error) {
	if a.eid == nil {
		return Proven{}, ErrEIDUnavailable
	}
	now := a.accounts.now()
	digest := proofing.CodeDigest(flow)
	ot, err := a.eid.Store.ConsumeOneTime(ctx, flowKind, digest, now)
	if errors.Is(err, store.ErrNotFound) {
		return Proven{}, ErrEIDFailed
	}
	if err != nil {
		return Proven{}, fmt.Errorf("account: eid finish: %w", err)
	}
	st, err := a.openFlow(ot.Data, digest)
	if err != nil {
		return Proven{}, err
	}
	state, code, err := eid.ParseCallback(query)
	if errors.Is(err, eid.ErrDenied) {
		a.accounts.record(ctx, audit.Event{Actor: "anonymous", Event: "proofing.eid_cancelled", ClientIP: clientIP})
		return Proven{}, ErrEIDCancelled
	}
	if err != nil {
		a.accounts.logger.Info("eid callback refused", slog.Any("error", err))
		return Proven{}, ErrEIDFailed
	}
	claims, err := a.eid.Client.Finish(ctx, eid.AuthRequest{State: eid.NewSecret(st.State), Nonce: eid.NewSecret(st.Nonce),
		Verifier: eid.NewSecret(st.Verifier)}, state, code)
	if errors.Is(err, eid.ErrDenied) {
		return Proven{}, ErrEIDCancelled
	}
	if err != nil {
		a.accounts.logger.Warn("eid identification failed", slog.Any("error", err))
		a.accounts.record(ctx, audit.Event{Actor: "anonymous", Event: "proofing.eid_failed", ClientIP: clientIP})
		return Proven{}, ErrEIDFailed
	}
	p, err := a.store.PersonByKVNR(ctx, st.KVNR)
	if errors.Is(err, store.ErrNotFound) {
		a.accounts.record(ctx, audit.Event{Actor: "anonymous", Event: "proofing.eid_no_match", ClientIP: clientIP,
			Details: map[string]any{"reason": "unknown"}})
		return Proven{}, ErrEIDNoMatch
	}
	if err != nil {
		return Proven{}, fmt.Errorf("account: eid finish: %w", err)
	}
	birth, err := registry.ParseBirthDate(p.BirthDate, now)
	if err != nil {
		return Proven{}, fmt.Errorf("account: eid finish: register birth date: %w", err)
	}
	res := proofing.Match(claims, proofing.Person{FamilyName: p.FamilyName, GivenNames: p.GivenNames, Title: p.Title,
		BirthName: p.BirthName, BirthDate: birth, Address: proofing.Address{Street: p.Street, HouseNumber: p.HouseNumber,
			PostalCode: p.PostalCode, City: p.City, Country: "DE"}})
	if !res.Matched {
		a.accounts.record(ctx, audit.Event{Actor: "anonymous", Event: "proofing.eid_no_match", Subject: subject(p.ID),
			ClientIP: clientIP, Details: map[string]any{"mismatches": len(res.Reasons)}})
		return Proven{}, ErrEIDNoMatch
	}
	ident, err := proofing.NewIdentification(p.ID, a.eid.Partner, claims, res, now)
	if err != nil {
		return Proven{}, fmt.Errorf("account: eid finish: %w", err)
	}
	if err := a.eid.Store.AddIdentification(ctx, store.Identification{ID: ident.ID, PersonID: p.ID, Method: ident.Method,
		Level: ident.Level, Partner: ident.Partner, PartnerTxn: ident.PartnerTransactionID, SubjectLink: ident.PartnerSubjectLink,
		MatchedHash: ident.MatchedAttributesHash[:], At: ident.At}); err != nil {
		return Proven{}, fmt.Errorf("account: eid finish: %w", err)
	}
	if res.AddressMatched {
		// The register's address was just confirmed at level high.
		if _, err := a.eid.Store.UpdatePerson(ctx, p.ID, func(q *store.Person) error {
			q.AddressVerifiedAt, q.AddressVerifiedBy = now, "eid"
			return nil
		}); err != nil {
			return Proven{}, fmt.Errorf("account: eid finish: %w", err)
		}
	}
	ticket, err := randomToken()
	if err != nil {
		return Proven{}, err
	}
	if err := a.onetimes.PutOneTime(ctx, store.OneTime{Kind: ticketKind, Digest: proofing.CodeDigest(ticket), Subject: subject(p.ID),
		Data: []byte(st.Purpose), CreatedAt: now, ExpiresAt: now.Add(flowTTL)}); err != nil {
		return Proven{}, fmt.Errorf("account: eid finish: %w", err)
	}
	a.accounts.record(ctx, audit.Event{Actor: subject(p.ID), Event: "proofing.eid_identified", Subject: subject(p.ID),
		ClientIP: clientIP, Details: map[string]any{"identification": ident.ID, "level": ident.Level, "purpose": st.Purpose,
			"address_confirmed": res.AddressMatched}})
	acct, err := a.store.AccountByPerson(ctx, p.ID)
	hasPassword := err == nil && acct.PasswordHash != "" && !acct.PasswordInitial
	return Proven{Ticket: ticket, HasPassword: hasPassword}, nil
}

// ChoosePassword sets the password of the person a ticket proves and starts a
// session at level high. The ticket is checked first, the password policy next
// (a refused password does not use the ticket up), then the ticket is consumed.
func (a *Access) ChoosePassword(ctx context.Context, ticket, newPassword, clientIP, userAgent, kind string) (LoginResult, error) {
	if a.eid == nil {
		return LoginResult{}, ErrEIDUnavailable
	}
	now := a.accounts.now()
	digest := proofing.CodeDigest(ticket)
	ot, err := a.eid.Store.OneTimeByDigest(ctx, ticketKind, digest, now)
	if errors.Is(err, store.ErrNotFound) {
		return LoginResult{}, ErrTicket
	}
	if err != nil {
		return LoginResult{}, fmt.Errorf("account: choose password: %w", err)
	}
	id, err := personFromSubject(ot.Subject)
	if err != nil {
		return LoginResult{}, err
	}
	p, err := a.store.PersonByID(ctx, id)
	if err != nil {
		return LoginResult{}, fmt.Errorf("account: choose password: %w", err)
	}
	if reasons := a.accounts.CheckNew(p, newPassword); len(reasons) > 0 {
		return LoginResult{}, &RefusedError{Reasons: reasons}
	}
	if _, err := a.eid.Store.ConsumeOneTime(ctx, ticketKind, digest, now); errors.Is(err, store.ErrNotFound) {
		return LoginResult{}, ErrTicket
	} else if err != nil {
		return LoginResult{}, fmt.Errorf("account: choose password: %w", err)
	}
	// The session's origin is the identification, made when the ticket
	// was issued: the freshness rules count from then, not from now.
	return a.accounts.setChosenPassword(ctx, p, newPassword, session.New{PersonID: p.ID, Kind: kind, Level: session.LevelHigh,
		AMR: []string{"hwk", "pin"}, Origin: session.OriginEID, OriginAt: ot.CreatedAt, ClientIP: clientIP, UserAgent: userAgent}, "eid")
}

func personFromSubject(s string) (store.PersonID, error) {
	var id int64
	if _, err := fmt.Sscanf(s, "person:%d", &id); err != nil || id <= 0 {
		return 0, fmt.Errorf("account: bad subject %q", s)
	}
	return store.PersonID(id), nil
}
