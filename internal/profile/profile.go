// Package profile owns the insured person's own data as the person sees and
// changes it: viewing name, address and bank details, and changing the address or
// the bank account through an approval on the bound phone (Freigabe); and
// asking for the removal of a bound phone, which a phone approves unless a
// fresh eID identification removes it at once (package device decides and
// carries it out).
//
//	RequestAddressChange / RequestBankChange ──▶ approval pending
//	  phone approves ──▶ the executor (Executors) runs in the approving
//	                     transaction: the person's data, the outbox event for
//	                     the core system and the notice commit together
//	  phone declines / request expires / a newer request withdraws it ──▶ nothing changes
//
// An address change's notice goes to the OLD address, as it was in the
// approving transaction; a bank change's notice to the (unchanged) address.
// Reading a request's status never changes anything. It does not own the
// approval's life (package approval), the notices' delivery (package notice)
// or the register import (package registry).
package profile

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/dispatch"
	"github.com/pforte/pforte/internal/field"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/notice"
	"github.com/pforte/pforte/internal/registry"
	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// Store is what the service needs of the store.
type Store interface {
	PersonByID(ctx context.Context, id store.PersonID) (store.Person, error)
	OutboxAfter(ctx context.Context, after int64, limit int) ([]store.OutboxEvent, error)
}

// Approvals runs approval requests (package approval).
type Approvals interface {
	Create(ctx context.Context, person store.PersonID, action, text string, data []byte, level, client string,
		sessionLevel session.Level) (store.Approval, error)
	Status(ctx context.Context, id string, person store.PersonID) (store.Approval, error)
}

// Sealer encrypts at rest (package seal).
type Sealer interface {
	// SealFor and OpenFor bind a value to its place (seal.Place).
	SealFor(plaintext, aad []byte) (store.Sealed, error)
	OpenFor(s store.Sealed, aad []byte) ([]byte, error)
}

// Notices makes the notices a change owes (package notice).
type Notices interface {
	Make(person store.PersonID, kind notice.Kind, d notice.Details) (store.Notice, error)
}

// Service shows and changes the person's data.
type Service struct {
	store     Store
	approvals Approvals
	devices   Devices
	sealer    Sealer
}

// New returns a service.
func New(st Store, approvals Approvals, devices Devices, sealer Sealer) *Service {
	return &Service{store: st, approvals: approvals, devices: devices, sealer: sealer}
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

func cleanField(name, v string, max int, required bool) (string, error) {
	v = strings.Join(strings.Fields(v), " ")
	if required && v == "" {
		return "", field.Wrong(name, lang.Key("field.required"))
	}
	if !utf8.ValidString(v) || utf8.RuneCountInString(v) > max || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", field.Wrong(name, lang.Key("field.too_long", max))
	}
	// What the phone shows is what it signs: no bidi overrides, zero-width
	// or other invisible characters in what a person enters.
	if approval.FieldProblem(v) != "" {
		return "", field.Wrong(name, lang.Key("field.display_unsafe"))
	}
	return v, nil
}

// CheckAddress checks and normalises an address as a person enters it (a
// *field.Error names the field that is wrong).
func CheckAddress(a Address) (Address, error) {
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
		return Address{}, field.Wrong("postal_code", lang.Key("field.postal_code"))
	}
	return a, nil
}

// RequestAddressChange asks the person's phone to approve a new address. The
// returned request is pending.
// sessionLevel is the level of the session that asks (approval.Create checks it
// against the policy).
func (s *Service) RequestAddressChange(ctx context.Context, id store.PersonID, a Address, client string, sessionLevel session.Level) (store.Approval, error) {
	a, err := CheckAddress(a)
	if err != nil {
		return store.Approval{}, err
	}
	data, err := json.Marshal(a)
	if err != nil {
		return store.Approval{}, err
	}
	text := "Neue Anschrift: " + strings.TrimSpace(a.Street+" "+a.HouseNumber) + ", " + a.PostalCode + " " + a.City
	return s.approvals.Create(ctx, id, approval.ActionAddressChange, text, data, "", client, sessionLevel)
}

type bankData struct {
	IBAN string `json:"iban"`
}

// RequestBankChange asks the person's phone to approve a new bank account.
func (s *Service) RequestBankChange(ctx context.Context, id store.PersonID, iban, client string, sessionLevel session.Level) (store.Approval, error) {
	if len(iban) > 64 {
		return store.Approval{}, field.Wrong("iban", lang.Key("field.iban"))
	}
	norm, err := registry.CheckIBAN(iban)
	if err != nil {
		return store.Approval{}, field.Wrong("iban", lang.Key("field.iban_form"))
	}
	data, err := json.Marshal(bankData{IBAN: norm})
	if err != nil {
		return store.Approval{}, err
	}
	return s.approvals.Create(ctx, id, approval.ActionBankChange, "Neue Bankverbindung (IBAN): "+group(norm), data, "", client, sessionLevel)
}

// Status returns the person's request as it stands. It only reads: an
// approved change was carried out when it was approved.
func (s *Service) Status(ctx context.Context, approvalID string, id store.PersonID) (store.Approval, error) {
	return s.approvals.Status(ctx, approvalID, id)
}

// Executors returns the executors of address.change and bank.change for
// package approval: each carries its change out in the approving transaction,
// with the outbox event for the core system and the notice it owes.
func Executors(sealer Sealer, notices Notices) approval.Executors {
	e := &executor{sealer: sealer, notices: notices}
	return approval.Executors{
		approval.ActionAddressChange: approval.ExecutorFunc(e.address),
		approval.ActionBankChange:    approval.ExecutorFunc(e.bank),
	}
}

type executor struct {
	sealer  Sealer
	notices Notices
}

func (e *executor) address(ctx context.Context, tx store.ApprovalTx, a store.Approval) error {
	var addr Address
	if err := json.Unmarshal(a.Data, &addr); err != nil {
		return fmt.Errorf("profile: address change: %w", err)
	}
	return e.changeAddress(ctx, tx, a, a.PersonID, addr)
}

// AddressChanger carries out an approved address change of person inside
// the approving transaction, with the outbox event and the notice to the
// person's old address: for the approval's own person (address.change), or
// for a person the approving one acts for (package family).
type AddressChanger func(ctx context.Context, tx store.ApprovalTx, a store.Approval, person store.PersonID, addr Address) error

// NewAddressChanger returns the AddressChanger that address.change uses.
func NewAddressChanger(sealer Sealer, notices Notices) AddressChanger {
	e := &executor{sealer: sealer, notices: notices}
	return e.changeAddress
}

func (e *executor) changeAddress(ctx context.Context, tx store.ApprovalTx, a store.Approval, person store.PersonID, addr Address) error {
	// Reported by the person and approved on the phone. It counts as
	// verified only when the phone was bound at level high (with the eID):
	// DESIGN's "reported through a high procedure". Otherwise letters with
	// codes to it wait for staff review until the register confirms it.
	// A change for someone else (package family) is never verified: the
	// representative's eID proves who the representative is, nothing about
	// where the represented person lives, and a verified address lets
	// letters with codes go out without review.
	d, err := tx.DeviceByID(ctx, a.DeviceID)
	if err != nil {
		return fmt.Errorf("profile: address change: %w", err)
	}
	verified := d.Level == string(session.LevelHigh) && person == a.PersonID
	var before store.Person
	after, err := tx.UpdatePerson(ctx, person, func(p *store.Person) error {
		before = *p
		p.Street, p.HouseNumber, p.PostalCode, p.City = addr.Street, addr.HouseNumber, addr.PostalCode, addr.City
		p.AddressVerifiedAt, p.AddressVerifiedBy = time.Time{}, ""
		if verified {
			p.AddressVerifiedAt, p.AddressVerifiedBy = a.AnsweredAt, "eid-device"
		}
		p.UpdatedAt = a.AnsweredAt
		return nil
	})
	if err != nil {
		return fmt.Errorf("profile: address change: %w", err)
	}
	payload := map[string]any{"kvnr": after.KVNR, "street": addr.Street, "house_number": addr.HouseNumber,
		"postal_code": addr.PostalCode, "city": addr.City}
	if err := e.outbox(ctx, tx, a, person, "address.changed", payload); err != nil {
		return err
	}
	// The notice goes to the address the person had until this transaction.
	n, err := e.notices.Make(person, notice.AddressChanged, notice.Details{At: a.AnsweredAt, To: dispatch.AddressLines(before)})
	if err != nil {
		return fmt.Errorf("profile: address change: %w", err)
	}
	return tx.QueueNotice(ctx, n)
}

func (e *executor) bank(ctx context.Context, tx store.ApprovalTx, a store.Approval) error {
	var bank bankData
	if err := json.Unmarshal(a.Data, &bank); err != nil {
		return fmt.Errorf("profile: bank change: %w", err)
	}
	after, err := tx.UpdatePerson(ctx, a.PersonID, func(p *store.Person) error {
		sealed, err := e.sealer.SealFor([]byte(bank.IBAN), seal.Place("persons", "iban", p.KVNR))
		if err != nil {
			return err
		}
		p.IBAN, p.UpdatedAt = sealed, a.AnsweredAt
		return nil
	})
	if err != nil {
		return fmt.Errorf("profile: bank change: %w", err)
	}
	if err := e.outbox(ctx, tx, a, a.PersonID, "bank_account.changed", map[string]any{"kvnr": after.KVNR, "iban": bank.IBAN}); err != nil {
		return err
	}
	n, err := e.notices.Make(a.PersonID, notice.BankChanged, notice.Details{At: a.AnsweredAt})
	if err != nil {
		return fmt.Errorf("profile: bank change: %w", err)
	}
	return tx.QueueNotice(ctx, n)
}

// outbox appends the event of an approved change for the core system; its id
// is the approval's, so the core system can apply it idempotently.
func (e *executor) outbox(ctx context.Context, tx store.ApprovalTx, a store.Approval, person store.PersonID, typ string, change map[string]any) error {
	plain, err := json.Marshal(map[string]any{"approval": a.ID, "approved_at": a.AnsweredAt, "change": change})
	if err != nil {
		return err
	}
	// The payload carries personal data (a bank account): sealed at rest,
	// opened when the core system reads the outbox.
	id := "approval:" + a.ID
	sealed, err := e.sealer.SealFor(plain, seal.Place("outbox", "payload", id))
	if err != nil {
		return fmt.Errorf("profile: outbox: %w", err)
	}
	payload, err := json.Marshal(sealed)
	if err != nil {
		return err
	}
	return tx.AppendOutbox(ctx, store.OutboxEvent{ID: id, Type: typ, PersonID: person, Payload: payload})
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
