package approval

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pforte/pforte/internal/session"
)

// The actions Pforte itself asks approvals for.
const (
	ActionPersonalView      = "personal.view"
	ActionAddressChange     = "address.change"
	ActionBankChange        = "bank.change"
	ActionPortalLogin       = "portal.login"
	ActionApplicationSubmit = "application.submit"
	ActionDeviceRemove      = "device.remove"
	// ActionEmailChange changes or removes a confirmed e-mail address
	// (package email carries it out).
	ActionEmailChange = "email.change"
	// ActionFamilyAddressChange is an address change for a person the
	// requester represents (package family), approved on the
	// requester's phone.
	ActionFamilyAddressChange = "family.address_change"
	// ActionClientRequest is a request of another insurer application,
	// asked through OpenID Connect CIBA (package oidc).
	ActionClientRequest = "client.request"
)

// Rule says what an action needs: at least Level, and whether the person must
// approve it on a bound device. An empty Level means "any bound device"; a
// request then requires substantial, the level every binding has.
type Rule struct {
	Level  string `yaml:"level"`
	Device bool   `yaml:"device"`
}

// Policy maps actions to their rules (the policy table of DESIGN.md 3.5). An
// action missing from the table cannot be requested.
type Policy map[string]Rule

// DefaultPolicy returns the defaults of DESIGN.md 3.5. A portal login reaches the
// level of the binding that approved it, so its rule asks for any bound device.
func DefaultPolicy() Policy {
	return Policy{
		ActionPersonalView:        {Level: string(session.LevelSubstantial)},
		ActionAddressChange:       {Level: string(session.LevelSubstantial), Device: true},
		ActionBankChange:          {Level: string(session.LevelSubstantial), Device: true},
		ActionPortalLogin:         {Device: true},
		ActionApplicationSubmit:   {Level: string(session.LevelSubstantial), Device: true},
		ActionDeviceRemove:        {Level: string(session.LevelSubstantial), Device: true},
		ActionEmailChange:         {Level: string(session.LevelSubstantial), Device: true},
		ActionClientRequest:       {Level: string(session.LevelSubstantial), Device: true},
		ActionFamilyAddressChange: {Level: string(session.LevelSubstantial), Device: true},
	}
}

// Allows reports whether a session at level may start action (or, for
// personal.view, see the person's data): its level must reach the action's
// policy level. This is the one check of the requesting side; portal and API
// both ask it. An action missing from the table is not allowed.
func (p Policy) Allows(action string, level session.Level) bool {
	r, ok := p[action]
	return ok && level.Rank() >= session.Level(r.Level).Rank()
}

// validAction reports whether a is a lower-case dotted action name.
func validAction(a string) bool {
	if a == "" || len(a) > 64 || a[0] < 'a' || a[0] > 'z' {
		return false
	}
	return !strings.ContainsFunc(a, func(r rune) bool {
		return (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '.' && r != '_' && r != '-'
	})
}

// Validate reports every problem of the table at once.
func (p Policy) Validate() []error {
	var errs []error
	actions := make([]string, 0, len(p))
	for a := range p {
		actions = append(actions, a)
	}
	slices.Sort(actions)
	for _, a := range actions {
		r := p[a]
		if !validAction(a) {
			errs = append(errs, fmt.Errorf("approval.policy: action %q: want a-z, then up to 63 of a-z, 0-9, '.', '_', '-'", a))
		}
		if r.Level != "" && session.Level(r.Level).Rank() == 0 {
			errs = append(errs, fmt.Errorf("approval.policy.%s.level: %q is not low, substantial or high", a, r.Level))
		}
		if r.Device && r.Level == string(session.LevelLow) {
			errs = append(errs, fmt.Errorf("approval.policy.%s.level: a device approval is at least substantial, not low", a))
		}
	}
	if r, ok := p[ActionPortalLogin]; ok && !r.Device {
		errs = append(errs, fmt.Errorf("approval.policy.%s.device: a portal login step-up is a device approval", ActionPortalLogin))
	}
	return errs
}

// required returns the level a request of rule r needs when its caller asks for
// at least level.
func (r Rule) required(level string) string {
	req := session.LevelSubstantial
	for _, l := range []string{r.Level, level} {
		if session.Level(l).Rank() > req.Rank() {
			req = session.Level(l)
		}
	}
	return string(req)
}
