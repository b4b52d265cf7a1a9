// Package appclient is the phone's side of Pforte's app protocol, the reference a
// mobile team ports: docs/app-protocol.md is its specification, and this package
// follows it to the byte.
//
// It owns the device's keys and their encodings (the P-256 device key, the
// device secret, the Ed25519 PIN key derived with Argon2id from the Freigabe-PIN
// and the secret), the canonical encoding of what is approved (ContentHash), the
// one byte string both keys sign (SignedMessage), and the device state a client
// keeps between runs (MarshalState, LoadState). It does not own the server's
// decisions: challenges, attempt limits, levels and approvals live in the server,
// which reuses only this package's signature checks (verify.go), so that the
// phone and the server cannot disagree about what a valid proof is.
//
// The package imports nothing from the module's internal packages: it stands
// alone, like the app it models.
//
// A device goes through these states:
//
//	NewDevice ──▶ unbound ──(bind challenge, both keys sign)──▶ bound (ID set)
//	                                                              │
//	     login, approve, pin-change, unbind: both keys sign one challenge each;
//	     decline: the device key alone; unbind ends the binding.
//
// The PIN is never stored; it is asked for each time and turned into the PIN
// key with DerivePINKey. Biometrics unlock a stored copy of the PIN key's seed
// instead (SignWithSeed); the server sees the same proof either way.
package appclient
