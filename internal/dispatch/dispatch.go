// Package dispatch owns the life of Pforte's letters: queueing them within the
// limits (at most a few per person in a window, a global daily cap: postage is
// money), holding letters to unverified addresses for staff review, handing
// queued letters to the print service as one batch PDF with a CSV manifest, and
// recording returns. Notices (package notice) arrive through DeliverNotice:
// they have their own daily budget apart from the letters with codes, so no
// flood of access requests can silence them, and a notice over its budget waits
// for the next day instead of being dropped.
//
//	Queue ──▶ review (address unverified: staff decide, review.go) ──▶ queued | rejected
//	Queue ──▶ queued ──Export──▶ handed_over ──Returned──▶ returned (codes void)
//	a newer letter of the same kind ──▶ older ones superseded (codes void)
//
// A letter's secrets (initial password, activation URL) are sealed in the store
// until the batch is handed over, then wiped: after that no copy exists except on
// paper. It does not own the layout (package letter) or the codes themselves
// (package proofing, package account).
//
// Dispatch decides the language of a letter when it queues it, and stores it
// with the letter, so that a batch exported days later and a letter released
// from review print in the language decided at request time: the person's own
// choice (store.Account.Language) when they made one, otherwise the language
// of the request that caused the letter (Queue's requested: an access or reset
// request made on an English page or with an English Accept-Language),
// otherwise German (lang.Choose). A notice's letter is in the language its
// Delivery names, which package notice takes from the person's choice.
package dispatch

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/letter"
	"github.com/pforte/pforte/internal/notice"
	"github.com/pforte/pforte/internal/store"
)

// ErrLimit reports that a letter was refused by a limit. Callers that answer
// anonymous requests must not reveal it.
var ErrLimit = errors.New("dispatch: letter limit reached")

// ErrDailyCap is the ErrLimit of the day's cap (errors.Is(ErrDailyCap,
// ErrLimit) holds): no more letters with codes today, for anyone.
var ErrDailyCap = fmt.Errorf("%w: the day's cap", ErrLimit)

// DefaultPersonWindow is the default of Config.PersonWindow.
const DefaultPersonWindow = 30 * 24 * time.Hour

// Config holds the limits. Zero fields take the defaults.
type Config struct {
	// PersonLimit letters with codes per person within PersonWindow
	// (default 3 in 30 days).
	PersonLimit  int
	PersonWindow time.Duration
	// DailyCap bounds the letters with codes of one day (default 2000).
	DailyCap int
	// NoticeDailyCap bounds the notice letters of one day (default 20000);
	// notices over it wait for the next day.
	NoticeDailyCap int
	// RequireVerifiedWithin: an address verified longer ago (or never) sends
	// the letter to staff review (default 365 days).
	RequireVerifiedWithin time.Duration
}

func (c Config) withDefaults() Config {
	if c.PersonLimit <= 0 {
		c.PersonLimit = 3
	}
	if c.PersonWindow <= 0 {
		c.PersonWindow = DefaultPersonWindow
	}
	if c.DailyCap <= 0 {
		c.DailyCap = 2000
	}
	if c.NoticeDailyCap <= 0 {
		c.NoticeDailyCap = 20000
	}
	if c.RequireVerifiedWithin <= 0 {
		c.RequireVerifiedWithin = 365 * 24 * time.Hour
	}
	return c
}

// Store is what dispatch needs of the store.
type Store interface {
	QueueLetter(ctx context.Context, l store.Letter, kinds []string, since time.Time, day string,
		check func(store.LetterCounts) error, codes store.LetterCodes) ([]string, error)
	LetterByID(ctx context.Context, id string) (store.Letter, error)
	LettersByStatus(ctx context.Context, status store.LetterStatus, limit int) ([]store.Letter, error)
	MarkHandedOver(ctx context.Context, ids []string, batchID string, now time.Time) error
	SetLetterStatus(ctx context.Context, id string, from, to store.LetterStatus, now time.Time) error
	PersonByID(ctx context.Context, id store.PersonID) (store.Person, error)
	AccountByPerson(ctx context.Context, id store.PersonID) (store.Account, error)
	VoidOneTimes(ctx context.Context, kind, subject string, now time.Time) (int64, error)
}

// Sealer seals letter secrets at rest (package seal).
type Sealer interface {
	SealFor(plaintext, aad []byte) (store.Sealed, error)
	OpenFor(s store.Sealed, aad []byte) ([]byte, error)
}

// Auditor records security events.
type Auditor interface {
	Record(ctx context.Context, e audit.Event) error
}

// Sink receives each letter as its own PDF as soon as it is queued. The demo
// writes them into a folder; production has none (letters go out in batches).
type Sink interface {
	Deliver(ctx context.Context, id string, pdf []byte) error
}

// Service queues, exports and tracks letters.
type Service struct {
	store    Store
	sealer   Sealer
	renderer *letter.Renderer
	audit    Auditor
	sink     Sink // may be nil
	now      func() time.Time
	cfg      Config
	logger   *slog.Logger
}

// New returns a service; sink may be nil.
func New(st Store, sealer Sealer, renderer *letter.Renderer, aud Auditor, sink Sink, now func() time.Time, cfg Config, logger *slog.Logger) *Service {
	return &Service{store: st, sealer: sealer, renderer: renderer, audit: aud, sink: sink, now: now, cfg: cfg.withDefaults(), logger: logger}
}

// Secrets are what a letter prints and the store must not keep in clear.
// InitialPassword is the initial password of a password letter or the reset
// code of a reset letter.
type Secrets struct {
	InitialPassword string `json:"initial_password,omitempty"`
	ActivationURL   string `json:"activation_url,omitempty"`
}

// kinds with codes share the per-person limit.
var codeKinds = []string{kindName(letter.KindPassword), kindName(letter.KindActivation), kindName(letter.KindPasswordReset)}

// hasCodes reports whether letters of kind carry codes.
func hasCodes(k letter.Kind) bool {
	return k == letter.KindPassword || k == letter.KindActivation || k == letter.KindPasswordReset
}

func kindName(k letter.Kind) string {
	switch k {
	case letter.KindPassword:
		return "password"
	case letter.KindActivation:
		return "activation"
	case letter.KindDeviceBound:
		return "device_bound"
	case letter.KindPasswordChanged:
		return "password_changed"
	case letter.KindAddressChanged:
		return "address_changed"
	case letter.KindPINLocked:
		return "pin_locked"
	case letter.KindPasswordReset:
		return "password_reset"
	case letter.KindBankChanged:
		return "bank_changed"
	case letter.KindDeviceRemoved:
		return "device_removed"
	case letter.KindLoginLocked:
		return "login_locked"
	}
	return "unknown"
}

func kindFromName(s string) (letter.Kind, bool) {
	for _, k := range []letter.Kind{letter.KindPassword, letter.KindActivation, letter.KindDeviceBound,
		letter.KindPasswordChanged, letter.KindAddressChanged, letter.KindPINLocked, letter.KindPasswordReset,
		letter.KindBankChanged, letter.KindDeviceRemoved, letter.KindLoginLocked} {
		if kindName(k) == s {
			return k, true
		}
	}
	return 0, false
}

// newID returns a letter id: date and 64 random bits, e.g. "L20261129-1f2e…".
func newID(now time.Time) (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("dispatch: random: %w", err)
	}
	return "L" + now.UTC().Format("20060102") + "-" + hex.EncodeToString(b[:]), nil
}

// AddressLines are the window lines for p, each at most
// letter.MaxAddressLineLen characters: a register may hold names and streets
// longer than an address line, and a letter must still go out. A long name
// line keeps the first given name and abbreviates the others ("Anna M. S.
// Müller-Lüdenscheidt"), then abbreviates them all, then leaves the title
// out; a long street writes "Straße" as "Str."; what is still too long is
// cut at the line's end (the post reads the beginning of a line).
func AddressLines(p store.Person) []string {
	given := strings.Fields(p.GivenNames)
	initials := func(names []string) []string {
		out := make([]string, len(names))
		for i, n := range names {
			r, _ := utf8.DecodeRuneInString(n)
			out[i] = string(r) + "."
		}
		return out
	}
	var candidates []string
	join := func(parts ...string) string { return strings.Join(strings.Fields(strings.Join(parts, " ")), " ") }
	candidates = append(candidates, join(p.Title, p.GivenNames, p.FamilyName))
	if len(given) > 1 {
		candidates = append(candidates, join(p.Title, given[0], strings.Join(initials(given[1:]), " "), p.FamilyName))
	}
	candidates = append(candidates, join(p.Title, strings.Join(initials(given), " "), p.FamilyName),
		join(strings.Join(initials(given), " "), p.FamilyName), p.FamilyName)
	name := candidates[len(candidates)-1]
	for _, c := range candidates {
		if utf8.RuneCountInString(c) <= letter.MaxAddressLineLen {
			name = c
			break
		}
	}
	street := strings.TrimSpace(p.Street + " " + p.HouseNumber)
	if utf8.RuneCountInString(street) > letter.MaxAddressLineLen {
		short := strings.NewReplacer("straße", "str.", "Straße", "Str.", "strasse", "str.", "Strasse", "Str.").Replace(p.Street)
		street = strings.TrimSpace(short + " " + p.HouseNumber)
	}
	return []string{cutLine(name), cutLine(street), cutLine(p.PostalCode + " " + p.City)}
}

// cutLine cuts s to an address line's length.
func cutLine(s string) string {
	if utf8.RuneCountInString(s) <= letter.MaxAddressLineLen {
		return s
	}
	return strings.TrimSpace(string([]rune(s)[:letter.MaxAddressLineLen]))
}

// Salutation greets p in lg. In German as DIN 5008 practice does: "Guten Tag
// Frau Dr. Weiß," where the register knows the salutation (Frau or Herr),
// otherwise the name alone without middle names ("Guten Tag Jürgen Weiß,").
// In English "Dear Ms Dr Weiß," or "Dear Jürgen Weiß,": titles lose their full
// stops as British usage writes them; names are never translated.
func Salutation(lg lang.Language, p store.Person) string {
	title := p.Title
	if lg == lang.English {
		title = strings.ReplaceAll(title, ".", "")
	}
	var word string
	switch p.Salutation {
	case "Frau":
		word = lg.T("letter.salutation.frau")
	case "Herr":
		word = lg.T("letter.salutation.herr")
	}
	if word != "" {
		return lg.T("letter.salutation.named", strings.Join(strings.Fields(word+" "+title+" "+p.FamilyName), " "))
	}
	// Without the register's salutation: the first given name and the
	// family name, no middle names.
	first, _, _ := strings.Cut(strings.TrimSpace(p.GivenNames), " ")
	return lg.T("letter.salutation.named", strings.Join(strings.Fields(title+" "+first+" "+p.FamilyName), " "))
}

func subject(id store.PersonID) string { return "person:" + strconv.FormatInt(int64(id), 10) }

// Queued is the outcome of Queue.
type Queued struct {
	Letter   store.Letter
	InReview bool // held for staff because the address is not verified
}

// Queue stores a letter with codes (password, activation, reset) to the
// person's registered address, within the limits: it counts against the
// person's window and the daily cap, and supersedes the person's earlier
// code letters. A letter to an address not verified within
// RequireVerifiedWithin waits in review. ErrLimit when a limit refuses it.
// requested is the language of the request that caused the letter (zero:
// none); the person's own choice wins over it. codes are the writes the
// letter's codes need (the earlier codes voided, the new ones stored, the
// initial password set); they commit in the letter's transaction, so a
// letter is never stored without its codes nor codes without their letter.
// Queue gives each code in codes.Put without Data the letter's id as its
// Data. An error from codes.Account is Queue's (wrapped), and nothing is
// stored. Notices go through DeliverNotice.
func (s *Service) Queue(ctx context.Context, p store.Person, kind letter.Kind, requested lang.Language, sec Secrets,
	codes store.LetterCodes, expires, changedAt time.Time, device string) (Queued, error) {
	if !hasCodes(kind) {
		return Queued{}, fmt.Errorf("dispatch: %s letters are notices: use DeliverNotice", kindName(kind))
	}
	lg, err := s.languageFor(ctx, p.ID, requested)
	if err != nil {
		return Queued{}, err
	}
	now := s.now()
	id, err := newID(now)
	if err != nil {
		return Queued{}, err
	}
	lines := AddressLines(p)
	// Render once now, so a letter that cannot be printed is refused here
	// and not at export.
	doc := s.document(id, kind, lg, now, p, lines, sec, expires, changedAt, device)
	pdf, err := s.renderer.Render(doc)
	if err != nil {
		return Queued{}, fmt.Errorf("dispatch: render: %w", err)
	}
	status := store.LetterQueued
	if p.AddressVerifiedAt.IsZero() || now.Sub(p.AddressVerifiedAt) > s.cfg.RequireVerifiedWithin {
		status = store.LetterReview
	}
	l, err := s.sealed(id, kind, lg, p.ID, lines, sec, changedAt, device, now, expires, status)
	if err != nil {
		return Queued{}, err
	}
	codes.Put = slices.Clone(codes.Put)
	for i := range codes.Put {
		if codes.Put[i].Data == nil {
			codes.Put[i].Data = []byte(id)
		}
	}
	superseded, err := s.store.QueueLetter(ctx, l, codeKinds, now.Add(-s.cfg.PersonWindow), now.UTC().Format(time.DateOnly),
		func(c store.LetterCounts) error {
			if c.Day >= int64(s.cfg.DailyCap) {
				return ErrDailyCap
			}
			if c.PersonSince >= int64(s.cfg.PersonLimit) {
				return ErrLimit
			}
			return nil
		}, codes)
	if errors.Is(err, ErrLimit) {
		reason := "person_limit"
		if errors.Is(err, ErrDailyCap) {
			reason = "daily_cap"
		}
		s.record(ctx, audit.Event{Actor: "system", Event: "letter.refused", Subject: subject(p.ID),
			Details: map[string]any{"kind": l.Kind, "reason": reason}})
		return Queued{}, err
	}
	if err != nil {
		return Queued{}, fmt.Errorf("dispatch: queue: %w", err)
	}
	s.record(ctx, audit.Event{Actor: "system", Event: "letter.queued", Subject: subject(p.ID),
		Details: map[string]any{"letter": id, "kind": l.Kind, "status": string(status), "superseded": len(superseded)}})
	if status == store.LetterQueued {
		s.deliverToSink(ctx, id, pdf)
	}
	return Queued{Letter: l, InReview: status == store.LetterReview}, nil
}

// languageFor is the language of a letter to the person: their own choice,
// otherwise requested, otherwise German.
func (s *Service) languageFor(ctx context.Context, id store.PersonID, requested lang.Language) (lang.Language, error) {
	a, err := s.store.AccountByPerson(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return lang.Choose("", requested), nil
	}
	if err != nil {
		return "", fmt.Errorf("dispatch: language: %w", err)
	}
	return lang.Choose(a.Language, requested), nil
}

func (s *Service) document(id string, kind letter.Kind, lg lang.Language, date time.Time, p store.Person, lines []string,
	sec Secrets, expires, changedAt time.Time, device string) letter.Letter {
	doc := letter.Letter{ID: id, Kind: kind, Language: lg, Date: date, Recipient: letter.Recipient{Lines: lines},
		Salutation: Salutation(lg, p), KVNR: p.KVNR}
	switch kind {
	case letter.KindPassword, letter.KindPasswordReset:
		doc.InitialPassword, doc.ActivationURL, doc.ValidUntil = sec.InitialPassword, sec.ActivationURL, expires
	case letter.KindActivation:
		doc.ActivationURL, doc.ValidUntil = sec.ActivationURL, expires
	case letter.KindDeviceBound, letter.KindDeviceRemoved:
		doc.DeviceName, doc.ChangedAt = device, changedAt
	case letter.KindPINLocked:
		doc.DeviceName, doc.ChangedAt = device, changedAt
	default:
		doc.ChangedAt = changedAt
	}
	return doc
}

// noticeLetters maps notice kinds to the letters that carry them.
var noticeLetters = map[notice.Kind]letter.Kind{
	notice.PasswordChanged: letter.KindPasswordChanged,
	notice.DeviceBound:     letter.KindDeviceBound,
	notice.DeviceRemoved:   letter.KindDeviceRemoved,
	notice.PINLocked:       letter.KindPINLocked,
	notice.AddressChanged:  letter.KindAddressChanged,
	notice.BankChanged:     letter.KindBankChanged,
	notice.LoginLocked:     letter.KindLoginLocked,
}

// DeliverNotice queues the letter that carries a notice (notice.Channel), in
// d.Language: to d.Details.To when set (the OLD address of an address change),
// otherwise to the person's registered address. The letter's id is derived
// from the notice's, so delivering one notice twice queues one letter. Notices count
// against NoticeDailyCap only; over it the notice is deferred to the next day.
func (s *Service) DeliverNotice(ctx context.Context, d notice.Delivery) error {
	kind, ok := noticeLetters[d.Kind]
	if !ok {
		return fmt.Errorf("dispatch: notice kind %q has no letter", d.Kind)
	}
	now := s.now()
	sum := sha256.Sum256([]byte(d.ID))
	id := "L" + d.Details.At.UTC().Format("20060102") + "-" + hex.EncodeToString(sum[:8])
	if _, err := s.store.LetterByID(ctx, id); err == nil {
		return nil // queued by an earlier delivery of the same notice
	} else if !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("dispatch: notice %s: %w", d.ID, err)
	}
	lines := AddressLines(d.Person)
	if len(d.Details.To) > 0 {
		lines = d.Details.To
	}
	lg := lang.Choose("", d.Language)
	doc := s.document(id, kind, lg, now, d.Person, lines, Secrets{}, time.Time{}, d.Details.At, d.Details.Device)
	pdf, err := s.renderer.Render(doc)
	if err != nil {
		return fmt.Errorf("dispatch: render notice %s: %w", d.ID, err)
	}
	l, err := s.sealed(id, kind, lg, d.Person.ID, lines, Secrets{}, d.Details.At, d.Details.Device, now, time.Time{}, store.LetterQueued)
	if err != nil {
		return err
	}
	day := now.UTC().Format(time.DateOnly)
	_, err = s.store.QueueLetter(ctx, l, nil, now, "notices:"+day, func(c store.LetterCounts) error {
		if c.Day >= int64(s.cfg.NoticeDailyCap) {
			return ErrLimit
		}
		return nil
	}, store.LetterCodes{})
	switch {
	case errors.Is(err, store.ErrConflict):
		return nil // queued by a parallel delivery of the same notice
	case errors.Is(err, ErrLimit):
		tomorrow := now.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
		s.record(ctx, audit.Event{Actor: "system", Event: "letter.deferred", Subject: subject(d.Person.ID),
			Details: map[string]any{"kind": l.Kind, "notice": d.ID}})
		return &notice.DeferredError{Until: tomorrow, Reason: "notice letter budget of the day used up"}
	case err != nil:
		return fmt.Errorf("dispatch: queue notice: %w", err)
	}
	s.record(ctx, audit.Event{Actor: "system", Event: "letter.queued", Subject: subject(d.Person.ID),
		Details: map[string]any{"letter": id, "kind": l.Kind, "status": string(l.Status), "notice": d.ID, "count": d.Count}})
	s.deliverToSink(ctx, id, pdf)
	return nil
}

// deliverToSink hands the rendered letter to the sink, if there is one.
func (s *Service) deliverToSink(ctx context.Context, id string, pdf []byte) {
	if s.sink == nil {
		return
	}
	if err := s.sink.Deliver(ctx, id, pdf); err != nil {
		s.logger.Error("letter sink", slog.String("letter", id), slog.Any("error", err))
	}
}

// sealed builds the stored letter with its secrets and particulars sealed.
func (s *Service) sealed(id string, kind letter.Kind, lg lang.Language, person store.PersonID, lines []string, sec Secrets,
	changedAt time.Time, device string, now, expires time.Time, status store.LetterStatus) (store.Letter, error) {
	plain, err := json.Marshal(struct {
		Secrets
		ChangedAt time.Time `json:"changed_at,omitzero"`
		Device    string    `json:"device,omitempty"`
	}{sec, changedAt, device})
	if err != nil {
		return store.Letter{}, fmt.Errorf("dispatch: %w", err)
	}
	sealed, err := s.sealer.SealFor(plain, []byte("letter:"+id))
	if err != nil {
		return store.Letter{}, fmt.Errorf("dispatch: seal: %w", err)
	}
	return store.Letter{ID: id, PersonID: person, Kind: kindName(kind), Status: status, Address: strings.Join(lines, "\n"),
		Language: string(lg), Secrets: sealed, CreatedAt: now.UTC().Truncate(time.Microsecond), ExpiresAt: expires.UTC().Truncate(time.Microsecond)}, nil
}

func (s *Service) record(ctx context.Context, e audit.Event) {
	if err := s.audit.Record(ctx, e); err != nil {
		s.logger.Error("audit record", slog.String("event", e.Event), slog.Any("error", err))
	}
}

// Batch is what Export handed over.
type Batch struct {
	ID      string
	Letters int
	Pages   int
	// ManifestSHA256 is the hex SHA-256 of the CSV manifest written.
	ManifestSHA256 string
}

// Export renders up to max queued letters (at most letter.MaxBatchLetters) into
// one PDF written to pdf and a CSV manifest written to manifest, then marks them
// handed over and wipes their secrets. Nothing is marked when writing fails.
func (s *Service) Export(ctx context.Context, pdf, manifest io.Writer, max int) (Batch, error) {
	batchID, err := s.NewBatchID()
	if err != nil {
		return Batch{}, err
	}
	return s.ExportAs(ctx, batchID, pdf, manifest, max)
}

// NewBatchID returns a fresh batch id ("B…").
func (s *Service) NewBatchID() (string, error) {
	id, err := newID(s.now())
	if err != nil {
		return "", err
	}
	return "B" + id[1:], nil
}

// ExportAs is Export under a batch id the caller chose (NewBatchID), so
// that files named after the batch exist before it is handed over
// (ExportToDir). When pdf and manifest can Sync (files), they are synced
// before the letters are marked: what is marked handed over is on disk.
func (s *Service) ExportAs(ctx context.Context, batchID string, pdf, manifest io.Writer, max int) (Batch, error) {
	max = min(max, letter.MaxBatchLetters)
	queued, err := s.store.LettersByStatus(ctx, store.LetterQueued, max)
	if err != nil {
		return Batch{}, fmt.Errorf("dispatch: export: %w", err)
	}
	if len(queued) == 0 {
		return Batch{}, nil
	}
	now := s.now()
	docs := make([]letter.Letter, 0, len(queued))
	ids := make([]string, 0, len(queued))
	for _, l := range queued {
		doc, err := s.reconstruct(ctx, l)
		if err != nil {
			return Batch{}, err
		}
		docs = append(docs, doc)
		ids = append(ids, l.ID)
	}
	res, err := s.renderer.RenderBatch(pdf, docs)
	if err != nil {
		return Batch{}, fmt.Errorf("dispatch: export: %w", err)
	}
	// The manifest's checksum goes into the audit trail: the batch the
	// print service received can be matched to the one recorded.
	sum := sha256.New()
	if err := letter.WriteManifest(io.MultiWriter(manifest, sum), res.Entries); err != nil {
		return Batch{}, fmt.Errorf("dispatch: export: %w", err)
	}
	for _, w := range []io.Writer{pdf, manifest} {
		if f, ok := w.(interface{ Sync() error }); ok {
			if err := f.Sync(); err != nil {
				return Batch{}, fmt.Errorf("dispatch: export: %w", err)
			}
		}
	}
	if err := s.store.MarkHandedOver(ctx, ids, batchID, now); err != nil {
		return Batch{}, fmt.Errorf("dispatch: export: %w", err)
	}
	manifestSum := hex.EncodeToString(sum.Sum(nil))
	s.record(ctx, audit.Event{Actor: "system", Event: "letter.batch_handed_over", Subject: "batch:" + batchID,
		Details: map[string]any{"letters": len(ids), "pages": res.Pages, "manifest_sha256": manifestSum}})
	return Batch{ID: batchID, Letters: len(ids), Pages: res.Pages, ManifestSHA256: manifestSum}, nil
}

// reconstruct rebuilds the printable letter from the stored record.
func (s *Service) reconstruct(ctx context.Context, l store.Letter) (letter.Letter, error) {
	kind, ok := kindFromName(l.Kind)
	if !ok {
		return letter.Letter{}, fmt.Errorf("dispatch: letter %s: unknown kind %q", l.ID, l.Kind)
	}
	p, err := s.store.PersonByID(ctx, l.PersonID)
	if err != nil {
		return letter.Letter{}, fmt.Errorf("dispatch: letter %s: %w", l.ID, err)
	}
	plain, err := s.sealer.OpenFor(l.Secrets, []byte("letter:"+l.ID))
	if err != nil {
		return letter.Letter{}, fmt.Errorf("dispatch: letter %s: %w", l.ID, err)
	}
	var v struct {
		Secrets
		ChangedAt time.Time `json:"changed_at"`
		Device    string    `json:"device"`
	}
	if err := json.Unmarshal(plain, &v); err != nil {
		return letter.Letter{}, fmt.Errorf("dispatch: letter %s: %w", l.ID, err)
	}
	// The language decided when the letter was queued (empty: German).
	lg, _ := lang.Parse(l.Language)
	return s.document(l.ID, kind, lg, l.CreatedAt, p, strings.Split(l.Address, "\n"), v.Secrets, l.ExpiresAt, v.ChangedAt,
		v.Device), nil
}

// Returned records that a handed-over letter came back undeliverable and voids
// its codes. ErrNotFound-style errors come from the store.
func (s *Service) Returned(ctx context.Context, id string, voider Voider) error {
	l, err := s.store.LetterByID(ctx, id)
	if err != nil {
		return fmt.Errorf("dispatch: returned: %w", err)
	}
	now := s.now()
	if err := s.store.SetLetterStatus(ctx, id, store.LetterHandedOver, store.LetterReturned, now); err != nil {
		return fmt.Errorf("dispatch: returned: %w", err)
	}
	if k, _ := kindFromName(l.Kind); hasCodes(k) {
		if err := voider.VoidLetterCodes(ctx, l.PersonID); err != nil {
			return fmt.Errorf("dispatch: returned: %w", err)
		}
	}
	s.record(ctx, audit.Event{Actor: "system", Event: "letter.returned", Subject: subject(l.PersonID),
		Details: map[string]any{"letter": id, "kind": l.Kind}})
	return nil
}

// Voider voids the codes a letter carried (package account knows where they
// live).
type Voider interface {
	VoidLetterCodes(ctx context.Context, id store.PersonID) error
}
