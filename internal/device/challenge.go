package device

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/field"
	"github.com/pforte/pforte/internal/proofing"
	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/store"
)

// Challenge is what the app must sign.
type Challenge struct {
	ID        string
	Nonce     []byte
	Purpose   string
	ExpiresAt time.Time
}

// A challenge is self-contained: issuing one writes nothing. Its id is
// "ch_" and the base64url (no padding) of
//
//	version (1) || key tag (4) || expiry, µs since 1970 (8) || nonce (16) || mac (16)
//
// 63 characters, within appclient.MaxChallengeIDLen. The nonce is the
// challenge's 128 random bits; mac is HMAC-SHA256, cut to 128 bits, over the
// bytes before it and the purpose, binding and approval id the challenge is
// issued for, under a key derived from the node's data keys (HKDF, info
// challengeKeyInfo; the tag names the key, so an open challenge survives a
// rotation while its key is in the keyring). Every node holds the same keys,
// so any node checks what another issued. The challenge's single use is
// recorded when it is answered (store.UsedChallenges), in the transaction
// that decides the answer.
const (
	challengePrefix  = "ch_"
	challengeKeyInfo = "pforte device challenge v1"
	challengeVersion = 1
	challengeNonce   = 16
	challengeMAC     = 16
	challengeSigned  = 1 + seal.MACTagSize + 8 + challengeNonce // the bytes before the mac
	challengeSize    = challengeSigned + challengeMAC
)

var challengeEncoding = base64.RawURLEncoding.Strict()

// NewChallenge issues a challenge for purpose. Every purpose except bind and
// bind-egk is bound to a device.
func (s *Service) NewChallenge(ctx context.Context, purpose string, dev store.DeviceID) (Challenge, error) {
	return s.NewChallengeFor(ctx, purpose, dev, "")
}

// NewChallengeFor issues a challenge for purpose that is also bound to one
// thing, for (an approval request's id): approve and decline challenges must
// name their request, other purposes must not.
func (s *Service) NewChallengeFor(ctx context.Context, purpose string, dev store.DeviceID, forID string) (Challenge, error) {
	needsFor := purpose == PurposeApprove || purpose == PurposeDecline
	if needsFor != (forID != "") || len(forID) > 64 || strings.Contains(forID, ":") {
		return Challenge{}, field.Invalid("approval_id", "Die Freigabe-ID fehlt oder ist hier nicht erlaubt.")
	}
	if !purposes[purpose] {
		return Challenge{}, field.Invalid("purpose", "Unbekannter Zweck der Anfrage.")
	}
	if (purpose == PurposeBind || purpose == PurposeBindEGK) != (dev == "") {
		return Challenge{}, field.Invalid("device_id", "Die Geräte-ID fehlt oder ist hier nicht erlaubt.")
	}
	if dev != "" {
		if _, err := s.store.DeviceByID(ctx, dev); errors.Is(err, store.ErrNotFound) {
			return Challenge{}, ErrNotFound
		} else if err != nil {
			return Challenge{}, fmt.Errorf("device: challenge: %w", err)
		}
	}
	return s.challenges.issue(purpose, dev, forID, s.now().UTC().Truncate(time.Microsecond).Add(s.cfg.ChallengeTTL)), nil
}

// challengeKeys issues and checks challenges.
type challengeKeys struct{ macs *seal.MACKeys }

// issue returns a challenge for purpose, dev and forID that expires at
// expires.
func (k challengeKeys) issue(purpose string, dev store.DeviceID, forID string, expires time.Time) Challenge {
	b := make([]byte, challengeSigned, challengeSize)
	b[0] = challengeVersion
	tag := k.macs.Tag()
	copy(b[1:], tag[:])
	binary.BigEndian.PutUint64(b[1+seal.MACTagSize:], uint64(expires.UnixMicro()))
	nonce := b[challengeSigned-challengeNonce : challengeSigned]
	rand.Read(nonce) // never fails; the runtime aborts if randomness is unavailable
	b = append(b, k.macs.Sum(challengeMACData(b, purpose, dev, forID))[:challengeMAC]...)
	return Challenge{ID: challengePrefix + challengeEncoding.EncodeToString(b), Nonce: append([]byte(nil), nonce...),
		Purpose: purpose, ExpiresAt: expires}
}

// challengeMACData is what a challenge's mac covers: its bytes before the
// mac, then purpose, binding and approval id, each with its length.
func challengeMACData(signed []byte, purpose string, dev store.DeviceID, forID string) []byte {
	m := append([]byte(nil), signed...)
	for _, f := range []string{purpose, string(dev), forID} {
		m = binary.BigEndian.AppendUint32(m, uint32(len(f)))
		m = append(m, f...)
	}
	return m
}

// openChallenge is a challenge whose mac, purpose, binding and expiry
// checked out: still to be used up once.
type openChallenge struct {
	nonce   []byte
	expires time.Time
	digest  []byte // names it in store.UsedChallenges
}

// open checks the challenge id: its mac first (in constant time), for
// purpose, dev and forID, then its expiry at now. Anything else is
// ErrProof, and nothing is written.
func (k challengeKeys) open(id, purpose string, dev store.DeviceID, forID string, now time.Time) (openChallenge, error) {
	if len(id) > appclient.MaxChallengeIDLen || !strings.HasPrefix(id, challengePrefix) {
		return openChallenge{}, ErrProof
	}
	b, err := challengeEncoding.DecodeString(id[len(challengePrefix):])
	if err != nil || len(b) != challengeSize || b[0] != challengeVersion {
		return openChallenge{}, ErrProof
	}
	var tag [seal.MACTagSize]byte
	copy(tag[:], b[1:])
	if !k.macs.Verify(tag, challengeMACData(b[:challengeSigned], purpose, dev, forID), b[challengeSigned:]) {
		return openChallenge{}, ErrProof
	}
	expires := time.UnixMicro(int64(binary.BigEndian.Uint64(b[1+seal.MACTagSize:]))).UTC()
	if !now.Before(expires) {
		return openChallenge{}, ErrProof
	}
	return openChallenge{nonce: b[challengeSigned-challengeNonce : challengeSigned], expires: expires,
		digest: proofing.CodeDigest(id)}, nil
}

// consume checks the challenge (open) and uses it up; it returns its nonce.
// A challenge is spent even when the request then fails; a used one is
// ErrProof.
func (s *Service) consume(ctx context.Context, id, purpose string, dev store.DeviceID, forID string) ([]byte, error) {
	ch, err := s.challenges.open(id, purpose, dev, forID, s.now())
	if err != nil {
		return nil, err
	}
	if err := s.store.UseChallenge(ctx, ch.digest, ch.expires); errors.Is(err, store.ErrConflict) {
		return nil, ErrProof
	} else if err != nil {
		return nil, fmt.Errorf("device: challenge: %w", err)
	}
	return ch.nonce, nil
}
