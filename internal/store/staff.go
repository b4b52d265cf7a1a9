package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// StaffID identifies a member of the insurer's staff (Sachbearbeiter/in). It
// is never a PersonID: staff and insured persons live in tables of their own.
type StaffID int64

// Ref is the staff member's reference in audit events: "staff:<id>".
func (id StaffID) Ref() string { return "staff:" + strconv.FormatInt(int64(id), 10) }

// ParseStaffRef returns the staff member a Ref names.
func ParseStaffRef(ref string) (StaffID, error) {
	n, ok := strings.CutPrefix(ref, "staff:")
	id, err := strconv.ParseInt(n, 10, 64)
	if !ok || err != nil || id <= 0 || strconv.FormatInt(id, 10) != n {
		return 0, fmt.Errorf("store: not a staff reference: %q", ref)
	}
	return StaffID(id), nil
}

// StaffMember is a back-office account: a login name, a role, the password
// and the TOTP secret of the second factor, and the login attempt state.
type StaffMember struct {
	ID    StaffID
	Login string // unique, lower case
	Name  string // shown in the back office
	Role  string // package staff names the roles
	// PasswordHash is an argon2id PHC string.
	PasswordHash string
	// TOTPSecret is the sealed RFC 6238 secret.
	TOTPSecret Sealed
	// TOTPLastStep is the time step of the last code accepted: a code of
	// this step or an earlier one is never accepted again.
	TOTPLastStep int64
	// Failures counts failed logins in a row; LockedUntil is when the
	// lock they caused ends (zero: not locked).
	Failures    int
	LockedUntil time.Time
	// DisabledAt is when an operator disabled the account (zero: active).
	DisabledAt time.Time
	// ExternalID is "issuer subject" of a staff member who signs in
	// through the insurer's corporate OpenID provider (unique; "" for
	// staff with a password).
	ExternalID string
	Version    int64
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// StaffAccounts is the contract for staff accounts.
type StaffAccounts interface {
	// AddStaff stores a new staff member and returns its id (m.ID is
	// ignored). ErrConflict if the login or the external id exists.
	AddStaff(ctx context.Context, m StaffMember) (StaffID, error)
	// StaffByID returns the staff member, or ErrNotFound.
	StaffByID(ctx context.Context, id StaffID) (StaffMember, error)
	// StaffByLogin returns the staff member with the login, or ErrNotFound.
	StaffByLogin(ctx context.Context, login string) (StaffMember, error)
	// UpdateStaff applies fn to the stored staff member atomically and
	// writes the result, incrementing Version; ID, Login and CreatedAt
	// cannot change. If fn returns an error nothing is written and the
	// error is returned. fn may run more than once. ErrNotFound if there is
	// no such staff member.
	UpdateStaff(ctx context.Context, id StaffID, fn func(m *StaffMember) error) (StaffMember, error)
	// StaffByExternalID returns the staff member with the external id, or
	// ErrNotFound ("" is never found).
	StaffByExternalID(ctx context.Context, externalID string) (StaffMember, error)
	// ListStaff returns every staff member, ordered by login.
	ListStaff(ctx context.Context) ([]StaffMember, error)
}

// StaffSession is a back-office session. The store keeps only the SHA-256
// of the session token, in a table apart from the insured persons'
// sessions.
type StaffSession struct {
	TokenHash     []byte
	StaffID       StaffID
	ClientIP      string
	UserAgent     string
	CreatedAt     time.Time
	LastSeenAt    time.Time
	IdleExpiresAt time.Time
	ExpiresAt     time.Time // absolute end
}

// StaffSessions is the contract for back-office sessions.
type StaffSessions interface {
	// CreateStaffSession stores a new session. ErrConflict if the hash
	// exists.
	CreateStaffSession(ctx context.Context, s StaffSession) error
	// StaffSessionByHash returns the session if neither its idle nor its
	// absolute expiry has passed at now; ErrNotFound otherwise.
	StaffSessionByHash(ctx context.Context, hash []byte, now time.Time) (StaffSession, error)
	// TouchStaffSession moves LastSeenAt to now and IdleExpiresAt to
	// idleUntil (never past ExpiresAt) for a live session; ErrNotFound
	// otherwise.
	TouchStaffSession(ctx context.Context, hash []byte, now, idleUntil time.Time) error
	// DeleteStaffSession removes the session; removing a missing one is no
	// error.
	DeleteStaffSession(ctx context.Context, hash []byte) error
	// DeleteStaffSessions removes every session of the staff member and
	// returns how many it removed.
	DeleteStaffSessions(ctx context.Context, id StaffID) (int64, error)
	// DeleteExpiredStaffSessions removes sessions whose absolute or idle
	// expiry passed before t.
	DeleteExpiredStaffSessions(ctx context.Context, t time.Time) (int64, error)
}

// StaffRequestStatus is where an act waiting for a second staff member
// stands.
//
//	pending ──(another staff member confirms)──▶ confirmed ──(the act fails when carried out)──▶ failed
//	   └─────(another staff member declines)───▶ declined
type StaffRequestStatus string

// The states of a four-eyes request.
const (
	StaffRequestPending   StaffRequestStatus = "pending"
	StaffRequestConfirmed StaffRequestStatus = "confirmed"
	StaffRequestDeclined  StaffRequestStatus = "declined"
	StaffRequestFailed    StaffRequestStatus = "failed"
)

// StaffRequest is a staff act that a second staff member must confirm
// before it is carried out (the four-eyes rule).
type StaffRequest struct {
	ID       string
	Kind     string // what is to be done, named by package staff
	PersonID PersonID
	Target   string // what it is done to (a device or letter id)
	Reason   string
	Method   string // how the person was identified, where the act needs it
	Status   StaffRequestStatus
	// RequestedBy asked for the act; DecidedBy confirmed or declined it.
	RequestedBy StaffID
	DecidedBy   StaffID
	CreatedAt   time.Time
	DecidedAt   time.Time
	// Outcome says why a confirmed act failed when it was carried out
	// (status failed): a short code named by package backoffice.
	Outcome string
}

// StaffRequests is the contract for four-eyes requests.
type StaffRequests interface {
	// AddStaffRequest stores a new pending request. ErrConflict if the id
	// exists.
	AddStaffRequest(ctx context.Context, r StaffRequest) error
	// StaffRequestByID returns the request, or ErrNotFound.
	StaffRequestByID(ctx context.Context, id string) (StaffRequest, error)
	// DecideStaffRequest moves a pending request to status (confirmed or
	// declined) by the staff member by at now, calling check with the
	// request under the same transaction's row lock first: of any number
	// of parallel decisions exactly one succeeds. ErrConflict if the
	// request is not pending, ErrNotFound if there is none; check's error
	// aborts the decision and is returned. check only reads: it must not
	// call the store.
	DecideStaffRequest(ctx context.Context, id string, status StaffRequestStatus, by StaffID, now time.Time,
		check func(r StaffRequest) error) (StaffRequest, error)
	// PendingStaffRequests lists pending requests, oldest first: of the
	// person, or of everyone when person is 0; at most limit.
	PendingStaffRequests(ctx context.Context, person PersonID, limit int) ([]StaffRequest, error)
	// FailStaffRequest moves a confirmed request to failed with outcome:
	// its act could not be carried out. ErrConflict if the request is not
	// confirmed, ErrNotFound if there is none.
	FailStaffRequest(ctx context.Context, id, outcome string) (StaffRequest, error)
}

// PersonLock is a staff lock of a person's access (Zugangssperre): while
// it stands, no login of any kind starts a session for the person.
type PersonLock struct {
	PersonID PersonID
	LockedAt time.Time
	LockedBy string // "staff:<id>"
}

// PersonLocks is the contract for staff locks of persons' access.
type PersonLocks interface {
	// LockPerson stores the lock and, in the same transaction, revokes
	// every unrevoked OIDC token of the person (at LockedAt): a refresh
	// token from before the lock must not work again after the release.
	// ErrConflict if the person is locked already, ErrNotFound if the
	// person does not exist.
	LockPerson(ctx context.Context, l PersonLock) error
	// PersonLockByID returns the person's lock, or ErrNotFound when the
	// person is not locked.
	PersonLockByID(ctx context.Context, id PersonID) (PersonLock, error)
	// UnlockPerson removes the person's lock. ErrNotFound if the person
	// is not locked; of parallel calls exactly one succeeds.
	UnlockPerson(ctx context.Context, id PersonID) error
}

// PersonSearch finds persons by what a caller on the telephone says.
type PersonSearch interface {
	// PersonsByBirthDate returns up to limit persons born on date
	// ("YYYY-MM-DD", "YYYY-MM" or "YYYY", compared as stored), ordered by
	// ID.
	PersonsByBirthDate(ctx context.Context, date string, limit int) ([]Person, error)
}

// AuditFilter narrows a search of the audit trail. Zero fields match
// everything.
type AuditFilter struct {
	Actor   string // exactly, e.g. "staff:3"
	Subject string // exactly, e.g. "person:42"
	Event   string // exactly, or a prefix ending in "." ("staff.")
	From    time.Time
	To      time.Time // exclusive
	// ExcludeActorPrefix leaves out entries whose actor starts with it
	// (a clerk does not see what staff did).
	ExcludeActorPrefix string
	// Before returns only entries with a Seq below it (paging; 0: none).
	Before int64
}

// AuditSearch reads the audit trail by filter.
type AuditSearch interface {
	// SearchAudit returns up to limit entries matching f, newest first.
	SearchAudit(ctx context.Context, f AuditFilter, limit int) ([]AuditEntry, error)
}
