package appclient

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Domain separation strings of protocol version 1.
const (
	ContentDomain = "pforte-content-v1" // first field of every content encoding
	MessageDomain = "pforte-app-v1"     // first field of every signed message
)

// Purposes of a challenge. A challenge answers exactly one purpose.
const (
	PurposeBind      = "bind"
	PurposeLogin     = "login"
	PurposeApprove   = "approve"
	PurposeDecline   = "decline"
	PurposePINChange = "pin-change"
	PurposeUnbind    = "unbind"
	// PurposeBindEGK binds (or unlocks) a device with the health card: the
	// card signs a pairing statement over the same content a bind covers
	// (egk.go).
	PurposeBindEGK = "bind-egk"
)

var purposes = []string{PurposeBind, PurposeLogin, PurposeApprove, PurposeDecline, PurposePINChange, PurposeUnbind, PurposeBindEGK}

// KnownPurpose reports whether p is one of the seven purposes.
func KnownPurpose(p string) bool { return slices.Contains(purposes, p) }

// ErrChallenge is returned, wrapped, for a malformed challenge.
var ErrChallenge = errors.New("invalid challenge")

// Challenge is what the server issues before every app authentication: single
// use, valid for 2 minutes, for one purpose. The app signs it; the server
// decides whether it is still valid.
type Challenge struct {
	ID        string    // 1–64 characters of [A-Za-z0-9_-]
	Nonce     []byte    // 16–64 random bytes (base64url on the wire)
	Purpose   string    // one of the Purpose constants
	ExpiresAt time.Time // RFC 3339 on the wire; informational for the app
}

// Validate checks the challenge's form. It does not look at the clock: expiry
// is the server's decision.
func (c Challenge) Validate() error {
	if err := CheckChallengeID(c.ID); err != nil {
		return err
	}
	if len(c.Nonce) < MinNonceSize || len(c.Nonce) > MaxNonceSize {
		return fmt.Errorf("%w: nonce is %d bytes, want %d–%d", ErrChallenge, len(c.Nonce), MinNonceSize, MaxNonceSize)
	}
	if !KnownPurpose(c.Purpose) {
		return fmt.Errorf("%w: unknown purpose %q", ErrChallenge, c.Purpose)
	}
	return nil
}

// CheckChallengeID reports whether id is 1–64 characters of [A-Za-z0-9_-].
func CheckChallengeID(id string) error {
	if id == "" || len(id) > MaxChallengeIDLen {
		return fmt.Errorf("%w: id is %d characters, want 1–%d", ErrChallenge, len(id), MaxChallengeIDLen)
	}
	for i := range len(id) {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return fmt.Errorf("%w: id has a character outside [A-Za-z0-9_-]", ErrChallenge)
		}
	}
	return nil
}

type challengeJSON struct {
	ID        *string    `json:"challenge_id"`
	Nonce     *string    `json:"nonce"`
	Purpose   *string    `json:"purpose"`
	ExpiresAt *time.Time `json:"expires_at"`
}

// MarshalJSON writes {"challenge_id","nonce","purpose","expires_at"} with the
// nonce in base64url and the expiry in RFC 3339.
func (c Challenge) MarshalJSON() ([]byte, error) {
	nonce := B64(c.Nonce)
	exp := c.ExpiresAt.UTC()
	return json.Marshal(challengeJSON{ID: &c.ID, Nonce: &nonce, Purpose: &c.Purpose, ExpiresAt: &exp})
}

// UnmarshalJSON reads the challenge object. All four members are required and
// the result must pass Validate; unknown members are ignored, so the server can
// add some.
func (c *Challenge) UnmarshalJSON(b []byte) error {
	var raw challengeJSON
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("%w: %v", ErrChallenge, err)
	}
	if raw.ID == nil || raw.Nonce == nil || raw.Purpose == nil || raw.ExpiresAt == nil {
		return fmt.Errorf("%w: want challenge_id, nonce, purpose and expires_at", ErrChallenge)
	}
	nonce, err := UnB64(*raw.Nonce)
	if err != nil {
		return fmt.Errorf("%w: nonce: %v", ErrChallenge, err)
	}
	got := Challenge{ID: *raw.ID, Nonce: nonce, Purpose: *raw.Purpose, ExpiresAt: *raw.ExpiresAt}
	if err := got.Validate(); err != nil {
		return err
	}
	*c = got
	return nil
}

// ContentEncoding returns C, the canonical encoding of what is approved:
//
//	field("pforte-content-v1") || field(typ) || field(text) || field(data)
//
// where field(x) is x's length as 4 bytes big-endian followed by x. text is
// the UTF-8 display text and data the data bytes, both exactly as the server
// sent them: the app never normalises text or re-serialises JSON.
func ContentEncoding(typ, text string, data []byte) []byte {
	c := make([]byte, 0, 4*4+len(ContentDomain)+len(typ)+len(text)+len(data))
	c = appendField(c, []byte(ContentDomain))
	c = appendField(c, []byte(typ))
	c = appendField(c, []byte(text))
	return appendField(c, data)
}

// ContentHash returns SHA-256(ContentEncoding(typ, text, data)). For login,
// decline and unbind it is ContentHash(purpose, "", nil).
func ContentHash(typ, text string, data []byte) [ContentHashSize]byte {
	return sha256.Sum256(ContentEncoding(typ, text, data))
}

// BindContent returns the data bytes of a bind: field(device public key) ||
// field(PIN public key) || field(KDF JSON as sent) || field(name) ||
// field(model). The content hash of a bind is
// ContentHash(PurposeBind, "", BindContent(...)), so the binding signature
// covers both keys and the KDF parameters.
func BindContent(devicePub, pinPub []byte, kdfJSON []byte, name, model string) []byte {
	var d []byte
	d = appendField(d, devicePub)
	d = appendField(d, pinPub)
	d = appendField(d, kdfJSON)
	d = appendField(d, []byte(name))
	return appendField(d, []byte(model))
}

// PINChangeContent returns the data bytes of a PIN change: field(new PIN public
// key) || field(new KDF JSON as sent). The content hash is
// ContentHash(PurposePINChange, "", PINChangeContent(...)).
func PINChangeContent(newPinPub, kdfJSON []byte) []byte {
	var d []byte
	d = appendField(d, newPinPub)
	return appendField(d, kdfJSON)
}

// SignedMessage returns M, the one byte string both keys sign:
//
//	field("pforte-app-v1") || field(purpose) || field(challengeID) ||
//	field(nonce) || field(contentHash)
//
// nonce is the decoded nonce bytes, not their base64url text.
func SignedMessage(purpose, challengeID string, nonce []byte, contentHash [ContentHashSize]byte) []byte {
	m := make([]byte, 0, 5*4+len(MessageDomain)+len(purpose)+len(challengeID)+len(nonce)+ContentHashSize)
	m = appendField(m, []byte(MessageDomain))
	m = appendField(m, []byte(purpose))
	m = appendField(m, []byte(challengeID))
	m = appendField(m, nonce)
	return appendField(m, contentHash[:])
}
