package access

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

	"github.com/pforte/pforte/internal/account"
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
	// PurposeConfirm: a logged-in person confirms with the eID (a phone is
	// lost, or the PIN locked): the session becomes a fresh eID session at
	// level high; the password stays (StartConfirm, Confirm).
	PurposeConfirm = "confirm"
)

// The outcomes of an eID identification the person is told about.
var (
	ErrEIDNoMatch   = errors.New("access: eid data do not match")
	ErrEIDCancelled = errors.New("access: eid cancelled")
	ErrEIDFailed    = errors.New("access: eid failed")
	// ErrEIDUnavailable: no identification partner is configured.
	ErrEIDUnavailable = errors.New("access: eid unavailable")
	// ErrTicket: the proof of identity expired or was used.
	ErrTicket = errors.New("access: identification ticket expired or used")
)

// One-time kinds of the eID flow.
const (
	flowKind   = "eid-flow"   // browser → partner → back: the pending request
	ticketKind = "eid-proven" // proven identity, waiting for a password
	flowTTL    = 15 * time.Minute
)

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
		return "", fmt.Errorf("access: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// StartEID validates the request's shape and begins an identification at the
// partner. It does not look the person up: the answer is the same for every
// well-formed request, and the match happens when the partner has answered.
func (a *Service) StartEID(ctx context.Context, in Request, purpose string) (EIDStart, error) {
	if a.partner == nil {
		return EIDStart{}, ErrEIDUnavailable
	}
	if purpose != PurposeAccess && purpose != PurposeReset {
		return EIDStart{}, fmt.Errorf("access: unknown eid purpose %q", purpose)
	}
	kvnr, err := in.Validate(a.now())
	if err != nil {
		return EIDStart{}, err
	}
	return a.startFlow(ctx, kvnr, purpose, "anonymous", in.ClientIP)
}

// StartConfirm begins an identification of the logged-in person id, who
// confirms their session with the eID (Confirm); no form: their data are
// on file, and the partner's answer must match them as for any other.
func (a *Service) StartConfirm(ctx context.Context, id store.PersonID, clientIP string) (EIDStart, error) {
	if a.partner == nil {
		return EIDStart{}, ErrEIDUnavailable
	}
	p, err := a.store.PersonByID(ctx, id)
	if err != nil {
		return EIDStart{}, fmt.Errorf("access: eid confirm: %w", err)
	}
	return a.startFlow(ctx, p.KVNR, PurposeConfirm, subject(id), clientIP)
}

// startFlow stores a sealed flow for kvnr and purpose and returns where the
// browser goes.
func (a *Service) startFlow(ctx context.Context, kvnr, purpose, actor, clientIP string) (EIDStart, error) {
	req, err := a.partner.Start()
	if err != nil {
		return EIDStart{}, fmt.Errorf("access: eid start: %w", err)
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
	sealed, err := a.sealer.SealFor(plain, digest)
	if err != nil {
		return EIDStart{}, fmt.Errorf("access: eid start: %w", err)
	}
	blob, _ := json.Marshal(sealedBlob{KeyID: sealed.KeyID, Data: sealed.Ciphertext})
	now := a.now()
	if err := a.store.PutOneTime(ctx, store.OneTime{Kind: flowKind, Digest: digest, Subject: "eid-flow",
		Data: blob, CreatedAt: now, ExpiresAt: now.Add(flowTTL)}); err != nil {
		return EIDStart{}, fmt.Errorf("access: eid start: %w", err)
	}
	a.record(ctx, audit.Event{Actor: actor, Event: "proofing.eid_started", ClientIP: clientIP,
		Details: map[string]any{"purpose": purpose}})
	return EIDStart{RedirectURL: req.URL, Flow: flow}, nil
}

// EIDRedirect returns the partner URL of a pending flow without using it up:
// an identification started through the API continues in a browser, which
// first fetches the flow's portal address (that sets the flow cookie) and is
// then sent on to the partner. ErrEIDFailed for an unknown or expired flow.
func (a *Service) EIDRedirect(ctx context.Context, flow string) (string, error) {
	if a.partner == nil {
		return "", ErrEIDUnavailable
	}
	if flow == "" || len(flow) > 64 {
		return "", ErrEIDFailed
	}
	digest := proofing.CodeDigest(flow)
	ot, err := a.store.OneTimeByDigest(ctx, flowKind, digest, a.now())
	if errors.Is(err, store.ErrNotFound) {
		return "", ErrEIDFailed
	}
	if err != nil {
		return "", fmt.Errorf("access: eid redirect: %w", err)
	}
	st, err := a.openFlow(ot.Data, digest)
	if err != nil {
		return "", err
	}
	return st.URL, nil
}

func (a *Service) openFlow(data, digest []byte) (flowState, error) {
	var blob sealedBlob
	if err := json.Unmarshal(data, &blob); err != nil {
		return flowState{}, fmt.Errorf("access: eid flow: %w", err)
	}
	plain, err := a.sealer.OpenFor(store.Sealed{KeyID: blob.KeyID, Ciphertext: blob.Data}, digest)
	if err != nil {
		return flowState{}, fmt.Errorf("access: eid flow: %w", err)
	}
	var st flowState
	if err := json.Unmarshal(plain, &st); err != nil {
		return flowState{}, fmt.Errorf("access: eid flow: %w", err)
	}
	return st, nil
}

// Proven is a proven identity waiting for a password (or, for
// PurposeConfirm, for the session it confirms).
type Proven struct {
	Ticket      string // single use, valid 15 minutes
	HasPassword bool   // the person had chosen a password before (a reset)
	Purpose     string // what the identification was started for
}

// FinishEID completes an identification: flow is the browser's value from
// StartEID, query the partner's redirect parameters. On a match it stores the
// identification record and returns a ticket for ChoosePassword.
func (a *Service) FinishEID(ctx context.Context, flow string, query url.Values, clientIP string) (Proven, error) {
	if a.partner == nil {
		return Proven{}, ErrEIDUnavailable
	}
	now := a.now()
	digest := proofing.CodeDigest(flow)
	ot, err := a.store.ConsumeOneTime(ctx, flowKind, digest, now)
	if errors.Is(err, store.ErrNotFound) {
		return Proven{}, ErrEIDFailed
	}
	if err != nil {
		return Proven{}, fmt.Errorf("access: eid finish: %w", err)
	}
	st, err := a.openFlow(ot.Data, digest)
	if err != nil {
		return Proven{}, err
	}
	state, code, err := eid.ParseCallback(query)
	if errors.Is(err, eid.ErrDenied) {
		a.record(ctx, audit.Event{Actor: "anonymous", Event: "proofing.eid_cancelled", ClientIP: clientIP})
		return Proven{}, ErrEIDCancelled
	}
	if err != nil {
		a.logger.Info("eid callback refused", slog.Any("error", err))
		return Proven{}, ErrEIDFailed
	}
	claims, err := a.partner.Finish(ctx, eid.AuthRequest{State: eid.NewSecret(st.State), Nonce: eid.NewSecret(st.Nonce),
		Verifier: eid.NewSecret(st.Verifier)}, state, code)
	if errors.Is(err, eid.ErrDenied) {
		return Proven{}, ErrEIDCancelled
	}
	if err != nil {
		a.logger.Warn("eid identification failed", slog.Any("error", err))
		a.record(ctx, audit.Event{Actor: "anonymous", Event: "proofing.eid_failed", ClientIP: clientIP})
		return Proven{}, ErrEIDFailed
	}
	p, err := a.store.PersonByKVNR(ctx, st.KVNR)
	if errors.Is(err, store.ErrNotFound) {
		a.record(ctx, audit.Event{Actor: "anonymous", Event: "proofing.eid_no_match", ClientIP: clientIP,
			Details: map[string]any{"reason": "unknown"}})
		return Proven{}, ErrEIDNoMatch
	}
	if err != nil {
		return Proven{}, fmt.Errorf("access: eid finish: %w", err)
	}
	birth, err := registry.ParseBirthDate(p.BirthDate, now)
	if err != nil {
		return Proven{}, fmt.Errorf("access: eid finish: register birth date: %w", err)
	}
	res := proofing.Match(claims, proofing.Person{FamilyName: p.FamilyName, GivenNames: p.GivenNames, Title: p.Title,
		BirthName: p.BirthName, BirthDate: birth, Address: proofing.Address{Street: p.Street, HouseNumber: p.HouseNumber,
			PostalCode: p.PostalCode, City: p.City, Country: "DE"}})
	if !res.Matched {
		a.record(ctx, audit.Event{Actor: "anonymous", Event: "proofing.eid_no_match", Subject: subject(p.ID),
			ClientIP: clientIP, Details: map[string]any{"mismatches": len(res.Reasons)}})
		return Proven{}, ErrEIDNoMatch
	}
	ident, err := proofing.NewIdentification(p.ID, a.cfg.Partner, claims, res, now)
	if err != nil {
		return Proven{}, fmt.Errorf("access: eid finish: %w", err)
	}
	if err := a.store.AddIdentification(ctx, store.Identification{ID: ident.ID, PersonID: p.ID, Method: ident.Method,
		Level: ident.Level, Partner: ident.Partner, PartnerTxn: ident.PartnerTransactionID, SubjectLink: ident.PartnerSubjectLink,
		MatchedHash: ident.MatchedAttributesHash[:], At: ident.At}); err != nil {
		return Proven{}, fmt.Errorf("access: eid finish: %w", err)
	}
	if res.AddressMatched {
		// The register's address was just confirmed at level high.
		if _, err := a.store.UpdatePerson(ctx, p.ID, func(q *store.Person) error {
			q.AddressVerifiedAt, q.AddressVerifiedBy = now, "eid"
			return nil
		}); err != nil {
			return Proven{}, fmt.Errorf("access: eid finish: %w", err)
		}
	}
	ticket, err := randomToken()
	if err != nil {
		return Proven{}, err
	}
	if err := a.store.PutOneTime(ctx, store.OneTime{Kind: ticketKind, Digest: proofing.CodeDigest(ticket), Subject: subject(p.ID),
		Data: []byte(st.Purpose), CreatedAt: now, ExpiresAt: now.Add(flowTTL)}); err != nil {
		return Proven{}, fmt.Errorf("access: eid finish: %w", err)
	}
	a.record(ctx, audit.Event{Actor: subject(p.ID), Event: "proofing.eid_identified", Subject: subject(p.ID),
		ClientIP: clientIP, Details: map[string]any{"identification": ident.ID, "level": ident.Level, "purpose": st.Purpose,
			"address_confirmed": res.AddressMatched}})
	acct, err := a.store.AccountByPerson(ctx, p.ID)
	hasPassword := err == nil && acct.PasswordHash != "" && !acct.PasswordInitial
	return Proven{Ticket: ticket, HasPassword: hasPassword, Purpose: st.Purpose}, nil
}

// ChoosePassword sets the password of the person a ticket proves and starts a
// session at level high. The ticket is checked first, the password policy next
// (a refused password does not use the ticket up), then the ticket is consumed.
func (a *Service) ChoosePassword(ctx context.Context, ticket, newPassword, clientIP, userAgent, kind string) (account.LoginResult, error) {
	if a.partner == nil {
		return account.LoginResult{}, ErrEIDUnavailable
	}
	now := a.now()
	digest := proofing.CodeDigest(ticket)
	ot, err := a.store.OneTimeByDigest(ctx, ticketKind, digest, now)
	if errors.Is(err, store.ErrNotFound) {
		return account.LoginResult{}, ErrTicket
	}
	if err != nil {
		return account.LoginResult{}, fmt.Errorf("access: choose password: %w", err)
	}
	if string(ot.Data) == PurposeConfirm {
		return account.LoginResult{}, ErrTicket // confirms a session; sets no password
	}
	id, err := store.ParsePersonRef(ot.Subject)
	if err != nil {
		return account.LoginResult{}, err
	}
	p, err := a.store.PersonByID(ctx, id)
	if err != nil {
		return account.LoginResult{}, fmt.Errorf("access: choose password: %w", err)
	}
	if reasons := a.accounts.CheckNew(p, newPassword); len(reasons) > 0 {
		return account.LoginResult{}, &account.RefusedError{Reasons: reasons}
	}
	if _, err := a.store.ConsumeOneTime(ctx, ticketKind, digest, now); errors.Is(err, store.ErrNotFound) {
		return account.LoginResult{}, ErrTicket
	} else if err != nil {
		return account.LoginResult{}, fmt.Errorf("access: choose password: %w", err)
	}
	// The session's origin is the identification, made when the ticket
	// was issued: the freshness rules count from then, not from now.
	return a.accounts.SetProvenPassword(ctx, p, newPassword, session.New{PersonID: p.ID, Kind: kind, Level: session.LevelHigh,
		AMR: []string{"hwk", "pin"}, Origin: session.OriginEID, OriginAt: ot.CreatedAt, ClientIP: clientIP, UserAgent: userAgent}, "eid")
}

// ErrOtherPerson: the eID identified someone else than the person of the
// session it was to confirm.
var ErrOtherPerson = errors.New("access: the identification is of another person")

// Confirm uses a PurposeConfirm ticket for the session sess: it returns the
// session to replace sess with, a fresh eID session (origin eid, level
// high, origin time the identification's) of the same kind. The ticket is
// used up either way. ErrTicket for an unknown, used, expired or other
// purpose's ticket; ErrOtherPerson when the identification is not of the
// session's person.
func (a *Service) Confirm(ctx context.Context, ticket string, sess store.Session, clientIP, userAgent string) (session.New, error) {
	if a.partner == nil {
		return session.New{}, ErrEIDUnavailable
	}
	ot, err := a.store.ConsumeOneTime(ctx, ticketKind, proofing.CodeDigest(ticket), a.now())
	if errors.Is(err, store.ErrNotFound) || (err == nil && string(ot.Data) != PurposeConfirm) {
		return session.New{}, ErrTicket
	}
	if err != nil {
		return session.New{}, fmt.Errorf("access: eid confirm: %w", err)
	}
	if ot.Subject != subject(sess.PersonID) {
		a.record(ctx, audit.Event{Actor: subject(sess.PersonID), Event: "proofing.eid_confirm_refused", Subject: subject(sess.PersonID),
			ClientIP: clientIP, Details: map[string]any{"reason": "other_person"}})
		return session.New{}, ErrOtherPerson
	}
	a.record(ctx, audit.Event{Actor: subject(sess.PersonID), Event: "proofing.eid_confirmed", Subject: subject(sess.PersonID),
		ClientIP: clientIP})
	return session.New{PersonID: sess.PersonID, Kind: sess.Kind, Level: session.LevelHigh, AMR: []string{"hwk", "pin"},
		Origin: session.OriginEID, OriginAt: ot.CreatedAt, ClientIP: clientIP, UserAgent: userAgent}, nil
}
