package staff

import (
	"slices"
)

// Role is what a staff member may do, by the one permission table below.
type Role string

// The roles.
const (
	// RoleClerk (Sachbearbeitung) finds persons, sees their access and
	// repairs it; never what other staff did.
	RoleClerk Role = "clerk"
	// RoleSupervisor (Teamleitung) does what a clerk does, confirms the
	// acts that need a second pair of eyes, and reads the audit trail.
	RoleSupervisor Role = "supervisor"
	// RoleAuditor (Datenschutz, Revision) reads and exports the audit
	// trail and nothing else.
	RoleAuditor Role = "auditor"
)

// Roles are every role, in the order pages list them.
var Roles = []Role{RoleClerk, RoleSupervisor, RoleAuditor}

// Valid reports whether r is one of the roles.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// Label is the role's German name.
func (r Role) Label() string {
	switch r {
	case RoleClerk:
		return "Sachbearbeitung"
	case RoleSupervisor:
		return "Teamleitung"
	case RoleAuditor:
		return "Prüfung (Datenschutz)"
	}
	return string(r)
}

// Permission is one thing a page or action of the back office does.
type Permission string

// The permissions. Every back-office route names exactly one.
const (
	PermHome           Permission = "home"            // the start page, own account, logout
	PermSearch         Permission = "person.search"   // search by KVNR or by name and birth date
	PermPersonView     Permission = "person.view"     // the person view (without what staff did)
	PermStaffEntries   Permission = "audit.staff"     // see the entries of staff acts, also on the person view
	PermSessionsEnd    Permission = "sessions.end"    // end all of a person's sessions
	PermAccountUnlock  Permission = "account.unlock"  // end a temporary password lock
	PermAccessLock     Permission = "access.lock"     // lock a person's access (every login) and end their sessions
	PermAccessRelease  Permission = "access.release"  // release that lock
	PermDeviceRevoke   Permission = "device.revoke"   // remove a bound phone
	PermPINReset       Permission = "pin.reset"       // ask to reset a PIN lock (identity checked)
	PermLetterOrder    Permission = "letter.order"    // order a new activation letter
	PermLetterReview   Permission = "letter.review"   // the review queue: release or reject
	PermLetterBatches  Permission = "letter.batches"  // the letter batch view: export history, returned letters
	PermLetterReturned Permission = "letter.returned" // record that a letter came back undeliverable
	PermNotMe          Permission = "notme.answer"    // answer a person's "that was not me" report
	PermConfirm        Permission = "fouryes.decide"  // confirm or decline another's four-eyes request
	PermAuditView      Permission = "audit.view"      // the audit view with its filters and verification
	PermAuditExport    Permission = "audit.export"    // the CSV export
)

// permissions is the one table of who may do what. Every route of the back
// office is checked against it in one place (package backoffice), and a
// test walks every role and route through it.
var permissions = map[Permission][]Role{
	PermHome:           {RoleClerk, RoleSupervisor, RoleAuditor},
	PermSearch:         {RoleClerk, RoleSupervisor},
	PermPersonView:     {RoleClerk, RoleSupervisor},
	PermStaffEntries:   {RoleSupervisor, RoleAuditor},
	PermSessionsEnd:    {RoleClerk, RoleSupervisor},
	PermAccountUnlock:  {RoleClerk, RoleSupervisor},
	PermAccessLock:     {RoleClerk, RoleSupervisor},
	PermAccessRelease:  {RoleClerk, RoleSupervisor},
	PermDeviceRevoke:   {RoleClerk, RoleSupervisor},
	PermPINReset:       {RoleClerk, RoleSupervisor},
	PermLetterOrder:    {RoleClerk, RoleSupervisor},
	PermLetterReview:   {RoleClerk, RoleSupervisor},
	PermLetterBatches:  {RoleClerk, RoleSupervisor},
	PermLetterReturned: {RoleClerk, RoleSupervisor},
	PermNotMe:          {RoleClerk, RoleSupervisor},
	PermConfirm:        {RoleSupervisor},
	PermAuditView:      {RoleSupervisor, RoleAuditor},
	PermAuditExport:    {RoleAuditor},
}

// Permissions are every permission, sorted.
func Permissions() []Permission {
	out := make([]Permission, 0, len(permissions))
	for p := range permissions {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// Allowed reports whether role r has permission p. An unknown role or
// permission has none.
func Allowed(r Role, p Permission) bool {
	return slices.Contains(permissions[p], r)
}
