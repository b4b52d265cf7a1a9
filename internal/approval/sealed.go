package approval

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/pforte/pforte/internal/store"
)

// Sealer encrypts at rest (package seal).
type Sealer interface {
	SealFor(plaintext, aad []byte) (store.Sealed, error)
	OpenFor(s store.Sealed, aad []byte) ([]byte, error)
}

// sealingStore seals Text and Data on the way in and opens them on the way out.
type sealingStore struct {
	Store
	sealer Sealer
}

type sealedFields struct {
	KeyID string `json:"k"`
	Text  []byte `json:"t"`
	Data  []byte `json:"d"`
}

// marker starts sealed text, so opened and clear rows can be told apart.
const marker = "pforte-sealed:"

func (ss sealingStore) seal(a store.Approval) (store.Approval, error) {
	plain, err := json.Marshal(struct {
		Text string `json:"t"`
		Data []byte `json:"d"`
	}{a.Text, a.Data})
	if err != nil {
		return a, err
	}
	sealed, err := ss.sealer.SealFor(plain, []byte("approval:"+a.ID))
	if err != nil {
		return a, fmt.Errorf("approval: seal: %w", err)
	}
	blob, err := json.Marshal(sealedFields{KeyID: sealed.KeyID, Data: sealed.Ciphertext})
	if err != nil {
		return a, err
	}
	a.Text, a.Data = marker+sealed.KeyID, blob
	return a, nil
}

func (ss sealingStore) open(a store.Approval) (store.Approval, error) {
	if len(a.Text) < len(marker) || a.Text[:len(marker)] != marker {
		return a, nil // stored before sealing was switched on
	}
	var f sealedFields
	if err := json.Unmarshal(a.Data, &f); err != nil {
		return a, fmt.Errorf("approval: open: %w", err)
	}
	plain, err := ss.sealer.OpenFor(store.Sealed{KeyID: f.KeyID, Ciphertext: f.Data}, []byte("approval:"+a.ID))
	if err != nil {
		return a, fmt.Errorf("approval: open: %w", err)
	}
	var v struct {
		Text string `json:"t"`
		Data []byte `json:"d"`
	}
	if err := json.Unmarshal(plain, &v); err != nil {
		return a, fmt.Errorf("approval: open: %w", err)
	}
	a.Text, a.Data = v.Text, v.Data
	return a, nil
}

func (ss sealingStore) ApprovalByID(ctx context.Context, id string) (store.Approval, error) {
	a, err := ss.Store.ApprovalByID(ctx, id)
	if err != nil {
		return a, err
	}
	return ss.open(a)
}

func (ss sealingStore) PendingApprovals(ctx context.Context, id store.PersonID, now time.Time) ([]store.Approval, error) {
	list, err := ss.Store.PendingApprovals(ctx, id, now)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i], err = ss.open(list[i]); err != nil {
			return nil, err
		}
	}
	return list, nil
}

func (ss sealingStore) CreateApproval(ctx context.Context, a store.Approval, since time.Time, check func(int) error,
	withdraw func(store.Approval) bool) error {
	sealed, err := ss.seal(a)
	if err != nil {
		return err
	}
	return ss.Store.CreateApproval(ctx, sealed, since, check, withdraw)
}

func (ss sealingStore) AnswerApproval(ctx context.Context, id string, dev store.DeviceID, reason store.DeclineReason, now time.Time) (store.Approval, error) {
	a, err := ss.Store.AnswerApproval(ctx, id, dev, reason, now)
	if err != nil {
		return a, err
	}
	return ss.open(a)
}

// ApproveApproval hands the executor the request opened: it carries out the
// plaintext data.
func (ss sealingStore) ApproveApproval(ctx context.Context, id string, contentHash []byte, dev store.DeviceID, method string, now time.Time,
	exec func(ctx context.Context, tx store.ApprovalTx, a store.Approval) error) (store.Approval, error) {
	var opened func(ctx context.Context, tx store.ApprovalTx, a store.Approval) error
	if exec != nil {
		opened = func(ctx context.Context, tx store.ApprovalTx, a store.Approval) error {
			plain, err := ss.open(a)
			if err != nil {
				return err
			}
			return exec(ctx, tx, plain)
		}
	}
	a, err := ss.Store.ApproveApproval(ctx, id, contentHash, dev, method, now, opened)
	if err != nil {
		return a, err
	}
	return ss.open(a)
}
