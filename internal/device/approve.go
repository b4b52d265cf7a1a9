package device

import (
	"context"
	"errors"
	"fmt"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/store"
)

// Prove checks an answer to a challenge of purpose with both keys over
// contentHash, exactly as an app login does: both signatures are checked,
// then one transaction consumes the challenge and counts or resets the PIN
// failures (see the package comment). It returns the binding on
// success; ErrProof, *WrongPINError or ErrPINLocked otherwise. Package approval
// uses it with purpose approve and the approval's content hash.
func (s *Service) Prove(ctx context.Context, dev store.DeviceID, purpose string, contentHash [32]byte, p Proof, clientIP string) (store.Device, error) {
	d, _, err := s.authenticate(ctx, dev, purpose, contentHash, p, clientIP, nil)
	return d, err
}

// ProveDevice checks an answer signed by the device key alone, as a decline is:
// the challenge is consumed and the device signature checked; the PIN signature
// is not looked at and the PIN's attempt counter is never touched, so it works
// on a binding whose PIN is locked. Only purpose decline is accepted; anything
// else is ErrProof.
func (s *Service) ProveDevice(ctx context.Context, dev store.DeviceID, purpose string, contentHash [32]byte, p Proof, clientIP string) (store.Device, error) {
	if purpose != PurposeDecline {
		return store.Device{}, ErrProof
	}
	nonce, err := s.consume(ctx, p.ChallengeID, purpose, dev, p.For)
	if err != nil {
		return store.Device{}, err
	}
	d, err := s.store.DeviceByID(ctx, dev)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !d.RemovedAt.IsZero()) {
		return store.Device{}, ErrProof
	}
	if err != nil {
		return store.Device{}, fmt.Errorf("device: prove: %w", err)
	}
	msg := appclient.SignedMessage(purpose, p.ChallengeID, nonce, contentHash)
	if !appclient.VerifyDeviceSignature(d.DeviceKey, msg, p.DeviceSignature) {
		return store.Device{}, ErrProof
	}
	return d, nil
}
