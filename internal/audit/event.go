// Package audit owns Pforte's audit trail: it validates security events, turns
// them into hash-chained store.AuditEntry values, appends them with group commit,
// and verifies a stored chain. Registration, letters, logins and failed logins,
// bindings, approvals, lockouts, password and PIN changes and staff acts are all
// recorded here, by the packages that own them.
//
// It does not own storage (the store keeps entries and serialises appends under
// the chain's lock), the meaning of events (each caller names its own, such as
// "registry.import"), or what callers put into them: the caller passes only
// non-secret details. Never record a password, PIN, code, token, full KVNR, name
// or birth date. Record enforces what it can check (see Event) as a safety net,
// not as a licence.
//
// # Chain
//
// Entries are numbered 1, 2, 3, … without gaps. Entry n stores PrevHash = Hash of
// entry n-1 (empty for entry 1) and
//
//	Hash = HMAC-SHA256( K, field("pforte-audit-v2") || field(Seq) || field(Time) ||
//	                    field(Actor) || field(Event) || field(Subject) ||
//	                    field(ClientIP) || field(Details) || field(PrevHash) )
//
// where K = HKDF-SHA256(audit key, info "pforte audit chain v2"), the audit key
// is a secret from the configuration that the database never holds (Key),
// field(x) is the length of x as 4 bytes big-endian followed by x; Seq is 8
// bytes big-endian; Time is the UTC instant in microseconds since the Unix
// epoch, 8 bytes big-endian two's complement (the store keeps microseconds, so
// Record truncates Time before hashing); Details are the JSON bytes exactly as
// stored. Changing any stored field, deleting or reordering entries breaks the
// chain, and without the key nobody can recompute it; Verify reports both.
//
// Entries written before the chain was keyed carry version 1 hashes: the same
// fields tagged "pforte-audit-v1" under plain SHA-256. Verify accepts them only
// before the first keyed entry, whose PrevHash seals them; from there on every
// entry must be keyed.
//
// The database's head cannot show that the tail was cut off and the head rewound.
// Checkpoints can: a Checkpointer publishes the head, signed with the key,
// outside the database (log line, file), and Verify checks a chain against
// them (see Checkpoint).
//
// # Group commit
//
// Every append is a database transaction, and every commit costs an fsync. Record
// therefore gathers events that arrive while an append is in flight and appends
// them together in the next one (at most maxBatch per append). There is no
// background goroutine: the first caller to find no append in flight becomes the
// leader, appends the queue, and on finishing hands the lead to the first caller
// still waiting. Each caller returns once its own entry is committed or failed.
package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on the fields of an Event.
const (
	maxEventLen   = 64
	maxActorLen   = 128
	maxSubjectLen = 256
	// MaxDetailsSize bounds the JSON encoding of Event.Details in bytes.
	MaxDetailsSize = 4096
)

// ErrInvalid reports an event that Record refuses to write. Nothing is written.
var ErrInvalid = errors.New("audit: invalid event")

// Event is one security event as its owner reports it. Every field must be free
// of secrets and personal data; identify people by their Pforte ids.
type Event struct {
	// Actor is who acted: "system", "import", "person:<id>", "staff:<id>".
	// Required; at most 128 bytes.
	Actor string
	// Event names what happened, namespaced by the owning package, e.g.
	// "registry.import" or "account.login_failed": a lower-case letter, then
	// up to 63 of a-z, 0-9, '_', '.', '-'.
	Event string
	// Subject is what it happened to, e.g. "person:42". Optional; at most
	// 256 bytes.
	Subject string
	// ClientIP is the client's IP address as netip.Addr.String writes it, or
	// empty when there is no client.
	ClientIP string
	// Details are further non-secret facts, stored as the JSON object that
	// encoding/json makes of the map (keys sorted), at most MaxDetailsSize
	// bytes. Keys that name a secret or personal datum ("password", "pin",
	// "code", "token", "kvnr", "name", "birth_date", "iban", …), at any depth,
	// and strings shaped like a KVNR are refused. Nil is stored as {}.
	Details map[string]any
}

// prepared is a validated event with its details encoded.
type prepared struct {
	actor, event, subject, clientIP string
	details                         []byte
}

// prepare validates ev and encodes its details. Its errors wrap ErrInvalid and
// name the offending field, never its value (which may be exactly the secret
// the check caught).
func prepare(ev Event) (prepared, error) {
	if !validEventName(ev.Event) {
		return prepared{}, fmt.Errorf("%w: event name: want a-z then up to 63 of a-z, 0-9, '_', '.', '-'", ErrInvalid)
	}
	if ev.Actor == "" {
		return prepared{}, fmt.Errorf("%w: %s: actor missing", ErrInvalid, ev.Event)
	}
	if err := checkText("actor", ev.Actor, maxActorLen); err != nil {
		return prepared{}, fmt.Errorf("%w: %s: %w", ErrInvalid, ev.Event, err)
	}
	if err := checkText("subject", ev.Subject, maxSubjectLen); err != nil {
		return prepared{}, fmt.Errorf("%w: %s: %w", ErrInvalid, ev.Event, err)
	}
	if ev.ClientIP != "" {
		addr, err := netip.ParseAddr(ev.ClientIP)
		if err != nil || addr.String() != ev.ClientIP {
			return prepared{}, fmt.Errorf("%w: %s: client ip not a canonical IP address", ErrInvalid, ev.Event)
		}
	}
	details := []byte("{}")
	if ev.Details != nil {
		b, err := json.Marshal(ev.Details)
		if err != nil {
			return prepared{}, fmt.Errorf("%w: %s: details: %w", ErrInvalid, ev.Event, err)
		}
		details = b
	}
	if len(details) > MaxDetailsSize {
		return prepared{}, fmt.Errorf("%w: %s: details are %d bytes, limit %d", ErrInvalid, ev.Event, len(details), MaxDetailsSize)
	}
	if err := checkDetails(details); err != nil {
		return prepared{}, fmt.Errorf("%w: %s: details: %w", ErrInvalid, ev.Event, err)
	}
	return prepared{
		actor:    ev.Actor,
		event:    ev.Event,
		subject:  ev.Subject,
		clientIP: ev.ClientIP,
		details:  details,
	}, nil
}

// validEventName reports whether s matches ^[a-z][a-z0-9_.-]{0,63}$.
func validEventName(s string) bool {
	if len(s) == 0 || len(s) > maxEventLen || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// checkText checks a free-text field: bounded, UTF-8, printable, no KVNR.
func checkText(field, s string, limit int) error {
	switch {
	case len(s) > limit:
		return fmt.Errorf("%s longer than %d bytes", field, limit)
	case !utf8.ValidString(s):
		return fmt.Errorf("%s not UTF-8", field)
	case strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
		return fmt.Errorf("%s has control characters", field)
	case containsKVNR(s):
		return fmt.Errorf("%s looks like it holds a KVNR", field)
	}
	return nil
}

// secretKeys are detail keys (lower case, '-' read as '_') that name something
// the audit trail must never hold.
var secretKeys = map[string]bool{
	"password": true, "passwort": true, "new_password": true, "old_password": true,
	"pin": true, "new_pin": true, "puk": true,
	"code": true, "otp": true, "tan": true, "activation_code": true, "reset_code": true,
	"token": true, "access_token": true, "refresh_token": true, "id_token": true,
	"secret": true, "client_secret": true, "private_key": true,
	"kvnr": true, "name": true, "family_name": true, "given_name": true,
	"given_names": true, "birth_name": true, "birth_date": true, "birthdate": true,
	"iban": true, "street": true, "address": true,
}

// checkDetails decodes the encoded details again (whatever Go values the caller
// put into the map) and checks every key and string at any depth.
func checkDetails(details []byte) error {
	var v any
	if err := json.Unmarshal(details, &v); err != nil {
		return err
	}
	return walkDetails(v)
}

func walkDetails(v any) error {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if secretKeys[strings.ReplaceAll(strings.ToLower(k), "-", "_")] {
				return fmt.Errorf("key %q names a secret or personal datum", k)
			}
			if containsKVNR(k) {
				return errors.New("a key looks like a KVNR")
			}
			if err := walkDetails(x); err != nil {
				return err
			}
		}
	case []any:
		for _, x := range v {
			if err := walkDetails(x); err != nil {
				return err
			}
		}
	case string:
		if containsKVNR(v) {
			return errors.New("a value looks like a KVNR")
		}
	}
	return nil
}

// containsKVNR reports whether s contains a word shaped like a KVNR: an upper
// case letter followed by nine digits, not preceded or followed by a letter or
// digit.
func containsKVNR(s string) bool {
	for i := 0; i+10 <= len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' || (i > 0 && isAlnum(s[i-1])) {
			continue
		}
		j := i + 1
		for j < i+10 && '0' <= s[j] && s[j] <= '9' {
			j++
		}
		if j == i+10 && (j == len(s) || !isAlnum(s[j])) {
			return true
		}
	}
	return false
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
