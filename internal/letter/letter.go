package letter

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/pforte/pforte/internal/lang"
)

// ErrInvalid is wrapped by every error that reports an invalid Sender,
// Recipient or Letter. The messages name the field and the problem but never
// the value, so they may be logged.
var ErrInvalid = errors.New("invalid")

// Limits of the values a letter prints. They keep every letter on one page
// and every line inside its box.
const (
	// MaxAddressLines is the number of lines the address field holds.
	MaxAddressLines = 6
	// MaxAddressLineLen is the length of an address line in characters.
	MaxAddressLineLen = 40
	// MinPasswordLen and MaxPasswordLen bound the initial password.
	MinPasswordLen = 12
	MaxPasswordLen = 24
	// MaxURLLen bounds the activation URL carried by the QR code.
	MaxURLLen = 256
	// MaxIDLen bounds the letter id.
	MaxIDLen = 40

	maxSenderLen     = 60
	maxReturnLineLen = 90
	maxSalutationLen = 80
	maxDeviceNameLen = 60
	maxKVNRLen       = 10
)

// Kind says which letter is printed. Each kind has its own subject, text and
// required fields (see Letter).
type Kind int

// The kinds of letters. The zero Kind is invalid.
const (
	KindPassword        Kind = iota + 1 // Passwortbrief: initial password and QR code
	KindActivation                      // QR code for binding a phone, no password
	KindDeviceBound                     // "Neues Gerät verbunden"
	KindPasswordChanged                 // the password was changed
	KindAddressChanged                  // the address was changed; sent to the old address
	KindPINLocked                       // the Freigabe-PIN was locked
	KindPasswordReset                   // forgotten password: reset code and QR code
	KindBankChanged                     // the bank account was changed
	KindDeviceRemoved                   // a phone was removed from the account
	KindLoginLocked                     // the password login was locked repeatedly
)

var kindNames = map[Kind]string{
	KindPassword:        "password",
	KindActivation:      "activation",
	KindDeviceBound:     "device_bound",
	KindPasswordChanged: "password_changed",
	KindAddressChanged:  "address_changed",
	KindPINLocked:       "pin_locked",
	KindPasswordReset:   "password_reset",
	KindBankChanged:     "bank_changed",
	KindDeviceRemoved:   "device_removed",
	KindLoginLocked:     "login_locked",
}

// String returns the kind's stable snake_case name, as used in the manifest.
func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// hasSecrets reports whether letters of the kind carry a password or a code.
func (k Kind) hasSecrets() bool {
	return k == KindPassword || k == KindActivation || k == KindPasswordReset
}

// Sender is the insurer as it appears on every letter.
type Sender struct {
	Name       string // "Beispiel Krankenkasse"
	Street     string // "Musterstraße 1"
	PostalCity string // "12345 Musterstadt"
	Phone      string // printed in the fraud notice and the info block
	Web        string // "www.beispiel-kasse.de"; where the portal is, printed in the steps
	// ReturnLine is the small line above the address in the window. Empty means
	// Name, Street and PostalCity joined with " · ".
	ReturnLine string
}

func (s Sender) returnLine() string {
	if s.ReturnLine != "" {
		return s.ReturnLine
	}
	return s.Name + " · " + s.Street + " · " + s.PostalCity
}

// validate reports every problem of s at once.
func (s Sender) validate(fc fontCheck) error {
	var errs []error
	for _, f := range []struct {
		name, v  string
		required bool
		max      int
	}{
		{"name", s.Name, true, maxSenderLen},
		{"street", s.Street, true, maxSenderLen},
		{"postal code and city", s.PostalCity, true, maxSenderLen},
		{"phone", s.Phone, true, maxSenderLen},
		{"web address", s.Web, true, maxSenderLen},
		{"return line", s.ReturnLine, false, maxReturnLineLen},
	} {
		if err := checkText(f.v, f.required, f.max, fc); err != nil {
			errs = append(errs, fmt.Errorf("sender %s: %w", f.name, err))
		}
	}
	if len(errs) == 0 && utf8.RuneCountInString(s.returnLine()) > maxReturnLineLen {
		errs = append(errs, fmt.Errorf("sender return line: %w: longer than %d characters", ErrInvalid, maxReturnLineLen))
	}
	return errors.Join(errs...)
}

// Recipient is the postal address printed in the window: one to six lines,
// typically name line(s), street and house number, postal code and city, each
// at most MaxAddressLineLen characters. See the package comment for why long
// lines are rejected rather than wrapped.
type Recipient struct {
	Lines []string
}

// validate reports every problem of r at once.
func (r Recipient) validate(fc fontCheck) error {
	switch {
	case len(r.Lines) == 0:
		return fmt.Errorf("recipient: %w: no address lines", ErrInvalid)
	case len(r.Lines) > MaxAddressLines:
		return fmt.Errorf("recipient: %w: %d address lines, at most %d", ErrInvalid, len(r.Lines), MaxAddressLines)
	}
	var errs []error
	for i, line := range r.Lines {
		if err := checkText(line, true, MaxAddressLineLen, fc); err != nil {
			errs = append(errs, fmt.Errorf("recipient line %d: %w", i+1, err))
		}
	}
	return errors.Join(errs...)
}

// String returns the number of lines only: addresses are personal data.
func (r Recipient) String() string {
	return fmt.Sprintf("letter.Recipient{%d lines}", len(r.Lines))
}

// Format makes every verb print what String prints.
func (r Recipient) Format(s fmt.State, _ rune) { fmt.Fprint(s, r.String()) }

// LogValue logs the number of lines only.
func (r Recipient) LogValue() slog.Value { return slog.IntValue(len(r.Lines)) }

// Letter is one letter to print. ID, Kind, Date, Recipient and Salutation are
// always required; the other fields depend on Kind:
//
//	KindPassword         InitialPassword, ActivationURL, ValidUntil
//	KindActivation       ActivationURL, ValidUntil (InitialPassword must be empty)
//	KindDeviceBound      DeviceName, ChangedAt
//	KindPasswordChanged  ChangedAt
//	KindAddressChanged   ChangedAt (Recipient is the OLD address)
//	KindPINLocked        ChangedAt (when the PIN was locked), DeviceName optional
//	KindBankChanged      ChangedAt (never the new account)
//	KindDeviceRemoved    DeviceName, ChangedAt
//
// Fields a kind does not use must be empty, so that no secret is handed to a
// letter that would not print it. InitialPassword and ActivationURL are
// secrets and Recipient, Salutation and KVNR are personal data: String,
// Format and LogValue print only ID, Kind and Date.
type Letter struct {
	ID        string // printed small in the info block and footer; 1 to 40 of A-Z a-z 0-9 . _ -
	Kind      Kind
	Date      time.Time // the letter's date, printed "29. November 2026"
	Recipient Recipient
	// Language is the language the letter is written in; the zero value is
	// German. Names, addresses and the sender are printed as given.
	Language lang.Language
	// Salutation opens the letter, e.g. "Sehr geehrte Frau Dr. Müller," or
	// "Guten Tag Jürgen Müller,", in the letter's language. Empty means
	// "Guten Tag," ("Dear Sir or Madam,").
	Salutation string
	// KVNR is not printed; it goes to the manifest, where the print service's
	// system matches letters by it.
	KVNR string

	InitialPassword string    // printed in groups of four after "Initialpasswort:" ("Initial password:")
	ActivationURL   string    // carried by the QR code; only its host is printed as text
	ValidUntil      time.Time // "gültig bis …" ("valid until …")
	DeviceName      string    // the phone's name as the person chose it
	ChangedAt       time.Time // when the reported change happened
}

// language is the letter's language, German for the zero value.
func (l Letter) language() lang.Language {
	if l.Language == "" {
		return lang.German
	}
	return l.Language
}

// String prints ID, Kind and Date only.
func (l Letter) String() string {
	return fmt.Sprintf("letter.Letter{ID:%s Kind:%s Date:%s}", l.ID, l.Kind, l.Date.Format(time.DateOnly))
}

// Format makes every verb (%v, %+v, %#v, %s, …) print what String prints, so
// that no secret or personal field leaks through fmt.
func (l Letter) Format(s fmt.State, _ rune) { fmt.Fprint(s, l.String()) }

// LogValue logs ID, Kind and Date only.
func (l Letter) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("letter_id", l.ID),
		slog.String("kind", l.Kind.String()),
		slog.String("date", l.Date.Format(time.DateOnly)),
	)
}

// validate reports every problem of l at once.
func (l Letter) validate(fc fontCheck) error {
	var errs []error
	add := func(field string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", field, err))
		}
	}
	if !validID(l.ID) {
		add("id", fmt.Errorf("%w: want 1 to %d characters of A-Z a-z 0-9 . _ -", ErrInvalid, MaxIDLen))
	}
	if _, ok := kindNames[l.Kind]; !ok {
		add("kind", fmt.Errorf("%w: unknown kind %d", ErrInvalid, int(l.Kind)))
	}
	if l.Date.IsZero() {
		add("date", fmt.Errorf("%w: missing", ErrInvalid))
	}
	if l.Language != "" && !l.Language.Valid() {
		add("language", fmt.Errorf("%w: want one of %v or empty (German)", ErrInvalid, lang.All()))
	}
	if err := l.Recipient.validate(fc); err != nil {
		errs = append(errs, err)
	}
	add("salutation", checkText(l.Salutation, false, maxSalutationLen, fc))
	if l.KVNR != "" && !validKVNRShape(l.KVNR) {
		add("kvnr", fmt.Errorf("%w: want a capital letter and 9 digits", ErrInvalid))
	}

	uses := map[string]bool{}
	switch l.Kind {
	case KindPassword, KindPasswordReset:
		uses = map[string]bool{"password": true, "url": true, "valid": true}
	case KindActivation:
		uses = map[string]bool{"url": true, "valid": true}
	case KindDeviceBound, KindDeviceRemoved:
		uses = map[string]bool{"device": true, "changed": true}
	case KindPINLocked:
		uses = map[string]bool{"device": true, "changed": true}
	case KindPasswordChanged, KindAddressChanged, KindBankChanged, KindLoginLocked:
		uses = map[string]bool{"changed": true}
	}
	unused := func(field string) {
		add(field, fmt.Errorf("%w: not used by %s letters, must be empty", ErrInvalid, l.Kind))
	}
	if uses["password"] {
		add("initial password", checkPassword(l.InitialPassword))
	} else if l.InitialPassword != "" {
		unused("initial password")
	}
	if uses["url"] {
		add("activation url", checkURL(l.ActivationURL))
	} else if l.ActivationURL != "" {
		unused("activation url")
	}
	if uses["valid"] {
		switch {
		case l.ValidUntil.IsZero():
			add("valid until", fmt.Errorf("%w: missing", ErrInvalid))
		case !l.Date.IsZero() && l.ValidUntil.Before(l.Date):
			add("valid until", fmt.Errorf("%w: before the letter's date", ErrInvalid))
		}
	} else if !l.ValidUntil.IsZero() {
		unused("valid until")
	}
	if uses["device"] {
		add("device name", checkText(l.DeviceName, l.Kind == KindDeviceBound || l.Kind == KindDeviceRemoved, maxDeviceNameLen, fc))
	} else if l.DeviceName != "" {
		unused("device name")
	}
	if uses["changed"] {
		if l.ChangedAt.IsZero() {
			add("changed at", fmt.Errorf("%w: missing", ErrInvalid))
		}
	} else if !l.ChangedAt.IsZero() {
		unused("changed at")
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("letter %s: %w", safeID(l.ID), errors.Join(errs...))
}

// safeID returns id if it is valid and a placeholder otherwise, so that error
// messages never echo arbitrary input.
func safeID(id string) string {
	if validID(id) {
		return id
	}
	return "(invalid id)"
}

func validID(id string) bool {
	if id == "" || len(id) > MaxIDLen {
		return false
	}
	for _, c := range id {
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// validKVNRShape checks the form of a KVNR (letter and nine digits); the check
// digit is the registry's business.
func validKVNRShape(s string) bool {
	if len(s) != maxKVNRLen || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// fontCheck reports whether the letter font has a glyph for r.
type fontCheck func(r rune) bool

// checkText checks one printed line: valid UTF-8, no control characters, no
// leading or trailing space, at most max characters, every character in the
// font. Messages give positions, never the text.
func checkText(s string, required bool, max int, fc fontCheck) error {
	if s == "" {
		if required {
			return fmt.Errorf("%w: empty", ErrInvalid)
		}
		return nil
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: not valid UTF-8", ErrInvalid)
	}
	if n := utf8.RuneCountInString(s); n > max {
		return fmt.Errorf("%w: %d characters, at most %d", ErrInvalid, n, max)
	}
	if strings.TrimSpace(s) != s {
		return fmt.Errorf("%w: leading or trailing space", ErrInvalid)
	}
	pos := 0
	for _, r := range s {
		pos++
		if !unicode.IsPrint(r) && r != ' ' {
			return fmt.Errorf("%w: character %d is not printable", ErrInvalid, pos)
		}
		if fc != nil && !fc(r) {
			return fmt.Errorf("%w: character %d is not in the letter font", ErrInvalid, pos)
		}
	}
	return nil
}

// checkPassword allows printable ASCII without spaces: the password is read
// from paper and typed in, and spaces would be lost among the group gaps.
func checkPassword(p string) error {
	if n := len(p); n < MinPasswordLen || n > MaxPasswordLen {
		return fmt.Errorf("%w: want %d to %d characters", ErrInvalid, MinPasswordLen, MaxPasswordLen)
	}
	for i := 0; i < len(p); i++ {
		if p[i] <= ' ' || p[i] > '~' {
			return fmt.Errorf("%w: character %d is not printable ASCII", ErrInvalid, i+1)
		}
	}
	return nil
}

// checkURL wants an absolute http or https URL with a host.
func checkURL(s string) error {
	if s == "" {
		return fmt.Errorf("%w: missing", ErrInvalid)
	}
	if len(s) > MaxURLLen {
		return fmt.Errorf("%w: longer than %d bytes", ErrInvalid, MaxURLLen)
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%w: not a URL", ErrInvalid)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%w: want an absolute https URL", ErrInvalid)
	}
	if err := checkText(u.Host, true, MaxURLLen, nil); err != nil {
		return fmt.Errorf("host: %w", err)
	}
	return nil
}

// urlHost returns the host of a URL that passed checkURL.
func urlHost(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	return u.Host
}
