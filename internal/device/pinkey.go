package device

import (
	"fmt"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/field"
)

// A PIN key must need the PIN. Every place a PIN public key enters a binding
// (BindWithLetter, BindWithSession, ChangePIN, UnlockWithLetter,
// UnlockWithSession) calls checkPINKey before it looks at anything else, so a
// refused key changes nothing: no challenge is used up, no password or
// activation code is tried, no attempt is counted.
//
// The key must be the canonical encoding of an Ed25519 point of large order
// (appclient.ParsePINPublicKey): under a small-order key one constant
// signature verifies for every message. The KDF parameters must be canonical,
// within the protocol's bounds (appclient.KDFParams.Validate) and at least the
// configured minimum (Config.KDFMinTime, Config.KDFMinMemory), which applies to
// new PIN keys only: bindings made under a lower minimum keep working.

// Messages of the refusals (docs/api.md).
const (
	msgPINKey = "Der PIN-Schlüssel ist ungültig."
	msgKDF    = "Die Parameter der PIN-Ableitung sind ungültig."
)

// checkPINKey refuses a PIN public key that would not need the PIN and KDF
// parameters that are malformed or weaker than the configured minimum, as an
// *field.Error for the field pin_key or kdf.
func (s *Service) checkPINKey(pinKey []byte, kdfJSON string) error {
	if _, err := appclient.ParsePINPublicKey(pinKey); err != nil {
		return field.Invalid("pin_key", msgPINKey)
	}
	if len(kdfJSON) > 256 {
		return field.Invalid("kdf", msgKDF)
	}
	k, err := appclient.ParseKDF([]byte(kdfJSON)) // canonical and within the bounds, or an error
	if err != nil {
		return field.Invalid("kdf", msgKDF)
	}
	if k.Time < s.cfg.KDFMinTime || k.Memory < s.cfg.KDFMinMemory {
		return field.Invalid("kdf", fmt.Sprintf("Die Parameter der PIN-Ableitung sind zu schwach: nötig sind mindestens t=%d und m=%d KiB.",
			s.cfg.KDFMinTime, s.cfg.KDFMinMemory))
	}
	return nil
}

// parseKeys checks the device key, then the PIN key and its KDF parameters.
func (s *Service) parseKeys(deviceKey, pinKey []byte, kdfJSON string) error {
	if _, err := appclient.ParseDevicePublicKey(deviceKey); err != nil {
		return field.Invalid("device_key", "Der Geräteschlüssel ist ungültig.")
	}
	return s.checkPINKey(pinKey, kdfJSON)
}
