// Package profile owns the insured person's own data as the person sees and
// changes it: viewing name, address and bank details, and changing the address or
// the bank account through an approval on the bound phone (Freigabe). An executed
// change lands in the outbox for the core insurance system; an address change
// sends a notice letter to the OLD address.
//
//	RequestAddressChange / RequestBankChange ──▶ approval pending
//	          phone approves ──▶ Complete: execute once (store, outbox) ──▶ done
//	          phone declines / request expires ──▶ nothing changes
//
// It does not own the approval's life (package approval), the letters (package
// dispatch) or the register import (package registry).
package profile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/letter"
	"github.com/pforte/pforte/internal/registry"
	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/store"
)

// Store is what the service needs of the store.
type Store interface {
	PersonByID(ctx context.Context, id store.PersonID) (store.Person, error)
	DeviceByID(ctx context.Context, id store.DeviceID) (store.Device, error)
	OutboxAfter(ctx context.Context, after int64, limit int) ([]store.OutboxEvent, error)
}

// Approvals runs approval requests (package approval).
type Approvals interface {
	Create(ctx context.Context, person store.PersonID, action, text string, data []byte, level, client string) (store.Approval, error)
	Status(ctx context.Context, id string, person store.PersonID) (store.Approval, error)
	Execute(ctx context.Context, id string, person store.PersonID, data []byte, change store.Change) error
}

// Sealer encrypts at rest (package seal).
type Sealer interface {
	// SealFor and OpenFor bind a value to its place (seal.Place).
	SealFor(plaintext, aad []byte) (store.Sealed, error)
	OpenFor(s store.Sealed, aad []byte) ([]byte, error)
}

// Notices sends notice letters (package dispatch).
type Notices interface {
	Notify(ctx context.Context, p store.Person, kind letter.Kind, device string, at time.Time) error
}

// InvalidError reports malformed input with a German message.
type InvalidError struct{ Field, Message string }

func (e *InvalidError) Error() string { return "profile: invalid " + e.Field }

// Service shows and changes the person's data.
type Service struct {
	store     Store
	approvals Approvals
	sealer    Sealer
	notices   Notices
	now       func() time.Time
	logger    *slog.Logger
}

// New returns a service.
func New(st Store, approvals Approvals, sealer Sealer, notices Notices, now func() time.Time, logger *slog.Logger) *Service {
	return &Service{store: st, approvals: approvals, sealer: sealer, notices: notices, now: now, logger: logger}
}

// View is what the person sees of their data.
type View struct {
	Title, GivenNames, FamilyName string
	Address                       Address
	AddressVerified               bool
	IBANMasked                    string // e.g. "DE89 **** **** **** **30 00"; empty when none
}

// Address is a postal address as the person enters it.
type Address struct {
	Street      string `json:"street"`
	HouseNumber string `json:"house_number"`
	PostalCode  string `json:"postal_code"`
	City        string `json:"city"`
}

// View returns the person's data.
func (s *Service) View(ctx context.Context, id store.PersonID) (View, error) {
	p, err := s.store.PersonByID(ctx, id)
	if err != nil {
		return View{}, fmt.Errorf("profile: view: %w", err)
	}
	v := View{Title: p.Title, GivenNames: p.GivenNames, FamilyName: p.FamilyName, AddressVerified: !p.AddressVerifiedAt.IsZero(),
		Address: Address{Street: p.Street, HouseNumber: p.HouseNumber, PostalCode: p.PostalCode, City: p.City}}
	if !p.IBAN.IsZero() {
		plain, err := s.sealer.OpenFor(p.IBAN, seal.Place("persons", "iban", p.KVNR))
		if err != nil {
			return View{}, fmt.Errorf("profile: view: %w", err)
		}
		v.IBANMasked = MaskIBAN(string(plain))
	}
	return v, nil
}

// MaskIBAN shows the country, check digits and the last four characters.
func MaskIBAN(iban string) string {
	if len(iban) < 8 {
		return "****"
	}
	masked := iban[:4] + strings.Repeat("*", len(iban)-8) + iban[len(iban)-4:]
	return group(masked)
}

func group(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

var postalCode = regexp.MustCompile(`^[0-9]{5}$`)

func cleanField(field, v string, max int, required bool) (string, error) {
	v = strings.Join(strings.Fields(v), " ")
	if required && v == "" {
		return "", &InvalidError{field, "Bitte füllen Sie dieses Feld aus."}
	}
	if !utf8.ValidString(v) || utf8.RuneCountInString(v) > max || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", &InvalidError{field, "Bitte höchstens " + strconv.Itoa(max) + " Zeichen, ohne Steuerzeichen."}
	}
	return v, nil
}

// validAddress checks and normalises an address.
func validAddress(a Address) (Address, error) {
	var err error
	if a.Street, err = cleanField("street", a.Street, 100, true); err != nil {
		return Address{}, err
	}
	if a.HouseNumber, err = cleanField("house_number", a.HouseNumber, 10, false); err != nil {
		return Address{}, err
	}
	if a.City, err = cleanField("city", a.City, 60, true); err != nil {
		return Address{}, err
	}
	a.PostalCode = strings.TrimSpace(a.PostalCode)
	if !postalCode.MatchString(a.PostalCode) {
		return Address{}, &InvalidError{"postal_code", "Bitte geben Sie eine Postleitzahl mit fünf Ziffern an."}
	}
	return a, nil
}

// RequestAddressChange asks the person's phone to approve a new address. The
// returned request is pending.
func (s *Service) RequestAddressChange(ctx context.Context, id store.PersonID, a Address, client string) (store.Approval, error) {
	a, err := validAddress(a)
	if err != nil {
		return store.Approval{}, err
	}
	data, err := json.Marshal(a)
	if err != nil {
		return store.Approval{}, err
	}
	text := "Neue Anschrift: " + strings.TrimSpace(a.Street+" "+a.HouseNumber) + ", " + a.PostalCode + " " + a.City
	return s.approvals.Create(ctx, id, approval.ActionAddressChange, text, data, "", client)
}

type bankData struct {
	IBAN string `json:"iban"`
}

// RequestBankChange asks the person's phone to approve a new bank account.
func (s *Service) RequestBankChange(ctx context.Context, id store.PersonID, iban, client string) (store.Approval, error) {
	if len(iban) > 64 {
		return store.Approval{}, &InvalidError{"iban", "Bitte prüfen Sie die IBAN."}
	}
	norm, err := registry.CheckIBAN(iban)
	if err != nil {
		return store.Approval{}, &InvalidError{"iban", "Bitte prüfen Sie die IBAN: Sie hat nicht die richtige Form oder Prüfziffer."}
	}
	data, err := json.Marshal(bankData{IBAN: norm})
	if err != nil {
		return store.Approval{}, err
	}
	return s.approvals.Create(ctx, id, approval.ActionBankChange, "Neue Bankverbindung (IBAN): "+group(norm), data, "", client)
}

// Status returns the request; once it is approved it executes the change first
// (exactly once, however often and on whichever node Status is called).
func (s *Service) Status(ctx context.Context, approvalID string, id store.PersonID) (store.Approval, error) {
	a, err := s.approvals.Status(ctx, approvalID, id)
	if err != nil {
		return store.Approval{}, err
	}
	if a.Status != store.ApprovalApproved || !a.UsedAt.IsZero() ||
		(a.Action != approval.ActionAddressChange && a.Action != approval.ActionBankChange) {
		return a, nil
	}
	if err := s.execute(ctx, a); err != nil && !errors.Is(err, approval.ErrUsed) {
		return store.Approval{}, err
	}
	return s.approvals.Status(ctx, approvalID, id)
}

// execute applies an approved change: the person's data, the outbox event for
// the core system, and for an address the notice to the old address.
func (s *Service) execute(ctx context.Context, a store.Approval) error {
	before, err := s.store.PersonByID(ctx, a.PersonID)
	if err != nil {
		return fmt.Errorf("profile: execute: %w", err)
	}
	change := store.Change{PersonID: a.PersonID}
	var payload map[string]any
	switch a.Action {
	case approval.ActionAddressChange:
		var addr Address
		if err := json.Unmarshal(a.Data, &addr); err != nil {
			return fmt.Errorf("profile: execute: %w", err)
		}
		// Reported by the person and approved on the phone. It counts as
		// verified only when the phone was bound at level high (with the
		// eID): DESIGN's "reported through a high procedure". Otherwise
		// letters to it wait for staff review until the register confirms it.
		change.Address = &store.AddressChange{Street: addr.Street, HouseNumber: addr.HouseNumber, PostalCode: addr.PostalCode, City: addr.City}
		if d, err := s.store.DeviceByID(ctx, a.DeviceID); err == nil && d.Level == "high" {
			change.Address.VerifiedAt, change.Address.VerifiedBy = s.now().UTC().Truncate(time.Microsecond), "eid-device"
		}
		change.Outbox.Type = "address.changed"
		payload = map[string]any{"kvnr": before.KVNR, "street": addr.Street, "house_number": addr.HouseNumber,
			"postal_code": addr.PostalCode, "city": addr.City}
	case approval.ActionBankChange:
		var bank bankData
		if err := json.Unmarshal(a.Data, &bank); err != nil {
			return fmt.Errorf("profile: execute: %w", err)
		}
		sealed, err := s.sealer.SealFor([]byte(bank.IBAN), seal.Place("persons", "iban", before.KVNR))
		if err != nil {
			return fmt.Errorf("profile: execute: %w", err)
		}
		change.IBAN = &sealed
		change.Outbox.Type = "bank_account.changed"
		payload = map[string]any{"kvnr": before.KVNR, "iban": bank.IBAN}
	}
	plain, err := json.Marshal(map[string]any{"approval": a.ID, "approved_at": a.AnsweredAt, "change": payload})
	if err != nil {
		return err
	}
	// The payload carries personal data (a bank account): sealed at rest,
	// opened when the core system reads the outbox.
	sealed, err := s.sealer.SealFor(plain, seal.Place("outbox", "payload", "approval:"+a.ID))
	if err != nil {
		return fmt.Errorf("profile: execute: %w", err)
	}
	change.Outbox.ID = "approval:" + a.ID
	change.Outbox.Payload, err = json.Marshal(sealed)
	if err != nil {
		return err
	}
	if err := s.approvals.Execute(ctx, a.ID, a.PersonID, a.Data, change); err != nil {
		return err
	}
	if a.Action == approval.ActionAddressChange {
		// The notice goes to the address the person had before.
		if err := s.notices.Notify(ctx, before, letter.KindAddressChanged, "", s.now()); err != nil {
			s.logger.Error("address change notice", slog.String("approval", a.ID), slog.Any("error", err))
		}
	}
	return nil
}

// OutboxEvent is an event for the core system with its payload opened.
type OutboxEvent struct {
	Seq       int64           `json:"seq"`
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Payload   json.RawMessage `json:"payload"`
	CreatedAt time.Time       `json:"created_at"`
}

// Outbox returns up to limit events after the cursor, payloads opened.
func (s *Service) Outbox(ctx context.Context, after int64, limit int) ([]OutboxEvent, error) {
	list, err := s.store.OutboxAfter(ctx, after, limit)
	if err != nil {
		return nil, fmt.Errorf("profile: outbox: %w", err)
	}
	out := make([]OutboxEvent, 0, len(list))
	for _, e := range list {
		var sealed store.Sealed
		if err := json.Unmarshal(e.Payload, &sealed); err != nil {
			return nil, fmt.Errorf("profile: outbox event %s: %w", e.ID, err)
		}
		plain, err := s.sealer.OpenFor(sealed, seal.Place("outbox", "payload", e.ID))
		if err != nil {
			return nil, fmt.Errorf("profile: outbox event %s: %w", e.ID, err)
		}
		out = append(out, OutboxEvent{Seq: e.Seq, ID: e.ID, Type: e.Type, Payload: plain, CreatedAt: e.CreatedAt})
	}
	return out, nil
}
