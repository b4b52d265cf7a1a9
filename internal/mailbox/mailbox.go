// Package mailbox owns the Online-Postfach: threads of messages between the
// insurer and one insured person, with attachments, read state, archive and
// search. It does not own who is logged in (package session), the HTTP
// shapes (package mailboxapi) or the notices that changes owe (package
// notice): each notice files its own thread in the transaction that queues
// it, and this package tells its text when the thread is read.
//
// A thread's life:
//
//	insurer Send ──▶ thread (unread for the person) ──Open──▶ read
//	                   │  ▲                                  │
//	                   │  └─ Reply (person) / StaffReply ◀───┘
//	                   └──Archive──▶ archived ──a new message──▶ back in the inbox
//
// Rules it keeps:
//
//   - Subjects and content only for a session at level substantial or above
//     (ErrLevel); below it a person learns only how many messages are
//     unread (Overview).
//   - A person reaches only their own threads: another person's thread is
//     ErrNotFound, exactly like one that does not exist.
//   - Subjects, texts, attachment names and contents are sealed at rest,
//     each bound to its row (package seal); the database never holds them in
//     clear. Search therefore opens the person's own messages and searches
//     them in memory, bounded by Config.SearchLimit.
//   - The insurer's texts are a Markdown subset rendered through a strict
//     sanitiser (render.go); a person's texts are plain text.
//   - Attachments are PDF, JPEG or PNG, at most Config.MaxFiles per message,
//     bounded in size per file and per message, their type sniffed from the
//     bytes and checked against the name, images decoded within a pixel
//     limit and PDFs checked to parse without active content (attach.go).
//   - Bad input is an *InputError with a German message naming what to do;
//     it changes nothing.
package mailbox

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// ErrLevel reports a session below substantial asking for content.
var ErrLevel = errors.New("mailbox: session level too low for content")

// ErrNotFound reports a thread or attachment that does not exist or is not
// the person's.
var ErrNotFound = errors.New("mailbox: not found")

// InputError is bad input, with a German message for the person that says
// what to change. Field names the input ("subject", "text", "attachments",
// "reply_by", "query").
type InputError struct {
	Field string
	Msg   string
	// Text is Msg from the catalogue, for a page in the reader's language
	// (the JSON API says Msg); zero for the staff's errors.
	Text lang.Text
}

func (e *InputError) Error() string { return "mailbox: bad " + e.Field + ": " + e.Msg }

// Store is what the mailbox needs of the store.
type Store interface {
	store.Mailbox
	PersonByKVNR(ctx context.Context, kvnr string) (store.Person, error)
}

// Sealer encrypts at rest (package seal).
type Sealer interface {
	SealFor(plaintext, aad []byte) (store.Sealed, error)
	OpenFor(s store.Sealed, aad []byte) ([]byte, error)
}

// Config holds the limits. Zero fields take the defaults.
type Config struct {
	MaxFileBytes    int64 // per attachment, default 5 MiB
	MaxMessageBytes int64 // all attachments of one message, default 10 MiB
	MaxFiles        int   // attachments per message, default 5
	MaxPixels       int   // width × height of an attached image, default 40 million
	MaxTextRunes    int   // a message's text, default 20,000 characters
	SearchLimit     int   // the newest messages a search reads, default 10,000
	PageSize        int   // threads per listing, default 50
}

// The defaults of Config.
const (
	DefaultMaxFileBytes    = 5 << 20
	DefaultMaxMessageBytes = 10 << 20
	DefaultMaxFiles        = 5
	DefaultMaxPixels       = 40_000_000
	DefaultMaxTextRunes    = 20_000
	DefaultSearchLimit     = 10_000
	DefaultPageSize        = 50
	// MaxSubjectRunes bounds a subject.
	MaxSubjectRunes = 200
)

func (c Config) withDefaults() Config {
	if c.MaxFileBytes <= 0 {
		c.MaxFileBytes = DefaultMaxFileBytes
	}
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if c.MaxFiles <= 0 {
		c.MaxFiles = DefaultMaxFiles
	}
	if c.MaxPixels <= 0 {
		c.MaxPixels = DefaultMaxPixels
	}
	if c.MaxTextRunes <= 0 {
		c.MaxTextRunes = DefaultMaxTextRunes
	}
	if c.SearchLimit <= 0 {
		c.SearchLimit = DefaultSearchLimit
	}
	if c.PageSize <= 0 {
		c.PageSize = DefaultPageSize
	}
	return c
}

// Limits returns the limits in force, defaults filled in.
func (s *Service) Limits() Config { return s.cfg }

// Auditor records security events (package audit): every act of staff or
// an operator on a person's mailbox.
type Auditor interface {
	Record(ctx context.Context, e audit.Event) error
}

// Service runs the mailboxes.
type Service struct {
	store   Store
	sealer  Sealer
	notices NoticeTeller
	audit   Auditor
	now     func() time.Time
	cfg     Config
	logger  *slog.Logger
}

// New returns the mailbox service. notices tells the text of notice threads;
// aud records what staff and operators do.
func New(st Store, sealer Sealer, notices NoticeTeller, aud Auditor, now func() time.Time, cfg Config, logger *slog.Logger) *Service {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Service{store: st, sealer: sealer, notices: notices, audit: aud, now: now, cfg: cfg.withDefaults(), logger: logger}
}

// NoticeTeller tells a notice thread's subject and text from the notice's
// kind, sealed details and count.
type NoticeTeller interface {
	TellNotice(noticeID, kind string, details store.Sealed, count int) (subject, text string, err error)
}

// Summary is a thread in a listing.
type Summary struct {
	ID      string
	Subject string
	Notice  bool // a notice of a change (Pforte wrote it, no reply)
	// NoticeKind is the kind of a notice's change (notice.Kind), so a
	// page can say the subject in its language (NoticeSubject).
	NoticeKind string
	Unread     int
	Messages   int
	LastAt     time.Time
	ReplyBy    time.Time // zero: no answer asked for
	Archived   bool
	// UnreadByStaff counts the person's messages staff have not read
	// (the staff side shows it).
	UnreadByStaff int
}

// Overview is what a listing shows. Threads is nil (and Restricted true)
// for a session below substantial: it learns only Unread.
type Overview struct {
	Unread     int
	Restricted bool
	Threads    []Summary
	// Next continues the listing (pass it as Query.After); "" at the end.
	Next string
}

// Query selects a listing.
type Query struct {
	Archived bool
	After    string // Overview.Next of the previous page
}

// Unread counts the person's unread messages, at any level: the number is
// all a session below substantial may learn, and what a notice of new mail
// (the service app's event stream) says.
func (s *Service) Unread(ctx context.Context, person store.PersonID) (int, error) {
	n, err := s.store.MailUnread(ctx, person)
	if err != nil {
		return 0, fmt.Errorf("mailbox: unread: %w", err)
	}
	return n, nil
}

// mayRead reports whether a session at level may see subjects and content.
func mayRead(level session.Level) bool {
	return level == session.LevelSubstantial || level == session.LevelHigh
}

// Overview lists the person's threads, newest first; below substantial only
// the number of unread messages.
func (s *Service) Overview(ctx context.Context, person store.PersonID, level session.Level, q Query) (Overview, error) {
	unread, err := s.store.MailUnread(ctx, person)
	if err != nil {
		return Overview{}, fmt.Errorf("mailbox: unread: %w", err)
	}
	if !mayRead(level) {
		return Overview{Unread: unread, Restricted: true}, nil
	}
	sq := store.MailThreadQuery{Archived: q.Archived, Limit: s.cfg.PageSize + 1}
	if q.After != "" {
		at, id, ok := parseCursor(q.After)
		if !ok {
			return Overview{}, &InputError{Field: "after", Msg: "Die Seitenangabe ist ungültig. Bitte öffnen Sie das Postfach neu.", Text: lang.Key("mailbox.input.after")}
		}
		sq.BeforeAt, sq.BeforeID = at, id
	}
	threads, err := s.store.MailThreads(ctx, person, sq)
	if err != nil {
		return Overview{}, fmt.Errorf("mailbox: threads: %w", err)
	}
	ov := Overview{Unread: unread, Threads: []Summary{}}
	if len(threads) > s.cfg.PageSize {
		threads = threads[:s.cfg.PageSize]
		last := threads[len(threads)-1]
		ov.Next = cursor(last.LastAt, last.ID)
	}
	for _, t := range threads {
		sum, err := s.summary(t)
		if err != nil {
			return Overview{}, err
		}
		ov.Threads = append(ov.Threads, sum)
	}
	return ov, nil
}

func cursor(at time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%d.%s", at.UnixMicro(), id)))
}

func parseCursor(c string) (time.Time, string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) > 200 {
		return time.Time{}, "", false
	}
	us, id, ok := strings.Cut(string(b), ".")
	var v int64
	if _, err := fmt.Sscanf(us, "%d", &v); !ok || err != nil || v <= 0 || id == "" {
		return time.Time{}, "", false
	}
	return time.UnixMicro(v).UTC(), id, true
}

// noticeKind is the notice kind of a notice thread, "" for others.
func noticeKind(t store.MailThread) string {
	if t.NoticeID == "" {
		return ""
	}
	return t.NoticeKind
}

// summary opens a thread's subject.
func (s *Service) summary(t store.MailThread) (Summary, error) {
	subject, _, err := s.subject(t)
	if err != nil {
		return Summary{}, err
	}
	return Summary{ID: t.ID, Subject: subject, Notice: t.NoticeID != "", NoticeKind: noticeKind(t), Unread: t.Unread, Messages: t.Messages,
		LastAt: t.LastAt, ReplyBy: t.ReplyBy, Archived: t.Archived, UnreadByStaff: t.UnreadByStaff}, nil
}

// subject returns the thread's subject, and for a notice thread its text.
func (s *Service) subject(t store.MailThread) (string, string, error) {
	if t.NoticeID != "" {
		if s.notices == nil {
			return "", "", fmt.Errorf("mailbox: notice thread %s: no notice teller", t.ID)
		}
		subj, text, err := s.notices.TellNotice(t.NoticeID, t.NoticeKind, t.NoticeDetails, t.NoticeCount)
		if err != nil {
			return "", "", fmt.Errorf("mailbox: notice thread %s: %w", t.ID, err)
		}
		return subj, text, nil
	}
	b, err := s.sealer.OpenFor(t.Subject, place("mail_threads", "subject", t.ID))
	if err != nil {
		return "", "", fmt.Errorf("mailbox: open subject of %s: %w", t.ID, err)
	}
	return string(b), "", nil
}

// place is the associated data that binds a sealed value to its row.
func place(table, column, id string) []byte { return []byte(table + "." + column + ":" + id) }

// Message is a message as a page shows it.
type Message struct {
	ID          string
	FromPerson  bool
	Author      string // "" for the person; a staff id, "operator" or "notice"
	HTML        template.HTML
	Text        string // the text as written (Markdown for the insurer's)
	At          time.Time
	ReadAt      time.Time
	Attachments []AttachmentInfo
}

// AttachmentInfo describes an attachment without its content.
type AttachmentInfo struct {
	ID   string
	Name string
	Type string
	Size int64
}

// Thread is a thread with its messages.
type Thread struct {
	Summary
	PersonID store.PersonID
	Messages []Message
	// CanReply is false for notices, which Pforte writes and nobody reads.
	CanReply bool
}

// Open returns the person's thread with its messages and marks the
// messages to the person read: opening a thread is reading it, as in any
// mail program (repeating it changes nothing more).
func (s *Service) Open(ctx context.Context, person store.PersonID, level session.Level, id string) (Thread, error) {
	if !mayRead(level) {
		return Thread{}, ErrLevel
	}
	th, err := s.load(ctx, person, id)
	if err != nil {
		return Thread{}, err
	}
	if th.Unread > 0 {
		if _, err := s.store.MarkMailRead(ctx, person, id, store.MailToPerson, s.now()); err != nil {
			return Thread{}, fmt.Errorf("mailbox: mark read: %w", err)
		}
	}
	return th, nil
}

// load reads and opens a thread of person.
func (s *Service) load(ctx context.Context, person store.PersonID, id string) (Thread, error) {
	if !plausibleID(id) {
		return Thread{}, ErrNotFound
	}
	t, msgs, err := s.store.MailThread(ctx, person, id)
	if errors.Is(err, store.ErrNotFound) {
		return Thread{}, ErrNotFound
	}
	if err != nil {
		return Thread{}, fmt.Errorf("mailbox: thread: %w", err)
	}
	subject, noticeText, err := s.subject(t)
	if err != nil {
		return Thread{}, err
	}
	th := Thread{Summary: Summary{ID: t.ID, Subject: subject, Notice: t.NoticeID != "", NoticeKind: noticeKind(t), Unread: t.Unread, Messages: t.Messages,
		LastAt: t.LastAt, ReplyBy: t.ReplyBy, Archived: t.Archived, UnreadByStaff: t.UnreadByStaff},
		PersonID: t.PersonID, CanReply: t.NoticeID == ""}
	for _, m := range msgs {
		msg := Message{ID: m.ID, FromPerson: m.Direction == store.MailFromPerson, Author: m.Author, At: m.CreatedAt, ReadAt: m.ReadAt}
		if t.NoticeID != "" {
			msg.Text = noticeText
		} else {
			b, err := s.sealer.OpenFor(m.Body, place("mail_messages", "body", m.ID))
			if err != nil {
				return Thread{}, fmt.Errorf("mailbox: open message %s: %w", m.ID, err)
			}
			msg.Text = string(b)
		}
		if msg.FromPerson {
			msg.HTML = RenderPlain(msg.Text)
		} else {
			msg.HTML = RenderMarkdown(msg.Text)
		}
		for _, a := range m.Attachments {
			name, err := s.sealer.OpenFor(a.Name, place("mail_attachments", "name", a.ID))
			if err != nil {
				return Thread{}, fmt.Errorf("mailbox: open attachment name %s: %w", a.ID, err)
			}
			msg.Attachments = append(msg.Attachments, AttachmentInfo{ID: a.ID, Name: string(name), Type: a.Type, Size: a.Size})
		}
		th.Messages = append(th.Messages, msg)
	}
	return th, nil
}

// plausibleID reports whether id can be an id this package made, so that
// garbage never reaches the database.
func plausibleID(id string) bool {
	if len(id) < 4 || len(id) > 80 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// File is an attachment with its content.
type File struct {
	Name    string
	Type    string
	Content []byte
}

// Attachment returns an attachment of the person's messages.
func (s *Service) Attachment(ctx context.Context, person store.PersonID, level session.Level, id string) (File, error) {
	if !mayRead(level) {
		return File{}, ErrLevel
	}
	if !plausibleID(id) {
		return File{}, ErrNotFound
	}
	return s.attachment(ctx, person, id)
}

func (s *Service) attachment(ctx context.Context, person store.PersonID, id string) (File, error) {
	a, err := s.store.MailAttachment(ctx, person, id)
	if errors.Is(err, store.ErrNotFound) {
		return File{}, ErrNotFound
	}
	if err != nil {
		return File{}, fmt.Errorf("mailbox: attachment: %w", err)
	}
	name, err := s.sealer.OpenFor(a.Name, place("mail_attachments", "name", a.ID))
	if err != nil {
		return File{}, fmt.Errorf("mailbox: open attachment name %s: %w", a.ID, err)
	}
	content, err := s.sealer.OpenFor(a.Content, place("mail_attachments", "content", a.ID))
	if err != nil {
		return File{}, fmt.Errorf("mailbox: open attachment %s: %w", a.ID, err)
	}
	return File{Name: string(name), Type: a.Type, Content: content}, nil
}

// Archive moves the person's thread into the archive (or back).
func (s *Service) Archive(ctx context.Context, person store.PersonID, level session.Level, id string, archived bool) error {
	if !mayRead(level) {
		return ErrLevel
	}
	if !plausibleID(id) {
		return ErrNotFound
	}
	err := s.store.SetMailArchived(ctx, person, id, archived)
	if errors.Is(err, store.ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("mailbox: archive: %w", err)
	}
	return nil
}

// newID returns prefix and 128 random bits.
func newID(prefix string) string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails; the runtime aborts if randomness is unavailable
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// checkSubject returns the subject as kept, or an *InputError.
func checkSubject(subject string) (string, error) {
	subject = strings.TrimSpace(subject)
	switch {
	case subject == "":
		return "", &InputError{Field: "subject", Msg: "Bitte geben Sie einen Betreff ein.", Text: lang.Key("mailbox.input.subject_missing")}
	case !utf8.ValidString(subject) || utf8.RuneCountInString(subject) > MaxSubjectRunes:
		return "", &InputError{Field: "subject", Msg: fmt.Sprintf("Der Betreff ist zu lang. Bitte kürzen Sie ihn auf höchstens %d Zeichen.", MaxSubjectRunes), Text: lang.Key("mailbox.input.subject_long", MaxSubjectRunes)}
	}
	for _, r := range subject {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return "", &InputError{Field: "subject", Msg: "Der Betreff enthält Steuer- oder unsichtbare Zeichen. Bitte schreiben Sie ihn neu.", Text: lang.Key("mailbox.input.subject_control")}
		}
	}
	return subject, nil
}

// checkText returns the text as kept (line ends as \n), or an
// *InputError: not empty, UTF-8, at most MaxTextRunes, no control or
// format characters but line breaks and tabs.
func (s *Service) checkText(text string) (string, error) {
	text = strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\r", "\n"))
	switch {
	case text == "":
		return "", &InputError{Field: "text", Msg: "Bitte schreiben Sie eine Nachricht.", Text: lang.Key("mailbox.input.text_missing")}
	case !utf8.ValidString(text):
		return "", &InputError{Field: "text", Msg: "Die Nachricht ist kein gültiger Text. Bitte schreiben Sie sie neu.", Text: lang.Key("mailbox.input.text_invalid")}
	case utf8.RuneCountInString(text) > s.cfg.MaxTextRunes:
		return "", &InputError{Field: "text", Msg: fmt.Sprintf("Die Nachricht ist zu lang. Bitte kürzen Sie sie auf höchstens %d Zeichen oder hängen Sie ein PDF an.", s.cfg.MaxTextRunes), Text: lang.Key("mailbox.input.text_long", s.cfg.MaxTextRunes)}
	}
	for _, r := range text {
		if r != '\n' && r != '\t' && (unicode.IsControl(r) || (unicode.Is(unicode.Cf, r) && r != '\u00ad')) {
			return "", &InputError{Field: "text", Msg: "Die Nachricht enthält Steuer- oder unsichtbare Zeichen. Bitte schreiben Sie sie neu.", Text: lang.Key("mailbox.input.text_control")}
		}
	}
	return text, nil
}

// checkUploads checks every attachment and returns them sealed for message
// id. All problems are checked before anything is stored.
func (s *Service) checkUploads(ups []Upload) ([]store.MailAttachment, error) {
	if len(ups) > s.cfg.MaxFiles {
		return nil, &InputError{Field: "attachments", Msg: fmt.Sprintf("Sie können höchstens %d Dateien an eine Nachricht hängen. Bitte verteilen Sie sie auf mehrere Nachrichten.", s.cfg.MaxFiles), Text: lang.Key("mailbox.input.files_many", s.cfg.MaxFiles)}
	}
	var total int64
	out := make([]store.MailAttachment, 0, len(ups))
	for _, u := range ups {
		name, typ, err := checkName(u.Name)
		if err != nil {
			return nil, err
		}
		size := int64(len(u.Content))
		if size == 0 {
			return nil, &InputError{Field: "attachments", Msg: "Die Datei „" + printable(name) + "“ ist leer. Bitte wählen Sie die richtige Datei.", Text: lang.Key("mailbox.input.file_empty", printable(name))}
		}
		if size > s.cfg.MaxFileBytes {
			return nil, &InputError{Field: "attachments", Msg: fmt.Sprintf("Die Datei „%s“ ist zu groß (höchstens %s je Datei). Bitte verkleinern Sie sie, zum Beispiel als PDF mit geringerer Auflösung.", printable(name), megabytes(s.cfg.MaxFileBytes)), Text: lang.Key("mailbox.input.file_large", printable(name), megabytes(s.cfg.MaxFileBytes))}
		}
		total += size
		if total > s.cfg.MaxMessageBytes {
			return nil, &InputError{Field: "attachments", Msg: fmt.Sprintf("Die Anhänge sind zusammen zu groß (höchstens %s je Nachricht). Bitte verteilen Sie sie auf mehrere Nachrichten.", megabytes(s.cfg.MaxMessageBytes)), Text: lang.Key("mailbox.input.files_large", megabytes(s.cfg.MaxMessageBytes))}
		}
		if err := checkContent(name, typ, u.Content, s.cfg.MaxPixels); err != nil {
			return nil, err
		}
		id := newID("att_")
		sn, err := s.sealer.SealFor([]byte(name), place("mail_attachments", "name", id))
		if err != nil {
			return nil, fmt.Errorf("mailbox: seal: %w", err)
		}
		sc, err := s.sealer.SealFor(u.Content, place("mail_attachments", "content", id))
		if err != nil {
			return nil, fmt.Errorf("mailbox: seal: %w", err)
		}
		out = append(out, store.MailAttachment{ID: id, Type: typ, Size: size, Name: sn, Content: sc})
	}
	return out, nil
}

// megabytes says n bytes in German, e.g. "5 MB".
func megabytes(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MB", n>>20)
	}
	return strings.Replace(fmt.Sprintf("%.1f MB", float64(n)/(1<<20)), ".", ",", 1)
}

// message builds a sealed message of thread.
func (s *Service) message(thread string, person store.PersonID, dir store.MailDirection, author, text string, ups []Upload) (store.MailMessage, error) {
	text, err := s.checkText(text)
	if err != nil {
		return store.MailMessage{}, err
	}
	atts, err := s.checkUploads(ups)
	if err != nil {
		return store.MailMessage{}, err
	}
	id := newID("msg_")
	body, err := s.sealer.SealFor([]byte(text), place("mail_messages", "body", id))
	if err != nil {
		return store.MailMessage{}, fmt.Errorf("mailbox: seal: %w", err)
	}
	for i := range atts {
		atts[i].MessageID = id
	}
	return store.MailMessage{ID: id, ThreadID: thread, PersonID: person, Direction: dir, Author: author, Body: body,
		CreatedAt: s.now().UTC().Truncate(time.Microsecond), Attachments: atts}, nil
}

// Reply adds the person's message to their thread. Notices take no reply.
func (s *Service) Reply(ctx context.Context, person store.PersonID, level session.Level, thread, text string, ups []Upload) (string, error) {
	if !mayRead(level) {
		return "", ErrLevel
	}
	th, err := s.load(ctx, person, thread)
	if err != nil {
		return "", err
	}
	if !th.CanReply {
		return "", &InputError{Field: "text", Msg: "Auf diese Benachrichtigung können Sie nicht antworten. Bitte schreiben Sie uns eine neue Nachricht.", Text: lang.Key("mailbox.input.notice_reply")}
	}
	m, err := s.message(thread, person, store.MailFromPerson, "", text, ups)
	if err != nil {
		return "", err
	}
	if err := s.store.AddMailMessage(ctx, m); err != nil {
		return "", fmt.Errorf("mailbox: reply: %w", err)
	}
	return m.ID, nil
}

// Write starts a new thread from the person to the insurer.
func (s *Service) Write(ctx context.Context, person store.PersonID, level session.Level, subject, text string, ups []Upload) (string, error) {
	if !mayRead(level) {
		return "", ErrLevel
	}
	return s.create(ctx, person, store.MailFromPerson, "", subject, text, time.Time{}, ups)
}

func (s *Service) create(ctx context.Context, person store.PersonID, dir store.MailDirection, author, subject, text string, replyBy time.Time, ups []Upload) (string, error) {
	subject, serr := checkSubject(subject)
	id := newID("thr_")
	m, merr := s.message(id, person, dir, author, text, ups)
	if err := errors.Join(serr, merr); err != nil {
		var in *InputError
		if errors.As(serr, &in) || errors.As(merr, &in) {
			return "", firstInput(serr, merr)
		}
		return "", err
	}
	sealed, err := s.sealer.SealFor([]byte(subject), place("mail_threads", "subject", id))
	if err != nil {
		return "", fmt.Errorf("mailbox: seal: %w", err)
	}
	t := store.MailThread{ID: id, PersonID: person, Subject: sealed, ReplyBy: replyBy, CreatedAt: m.CreatedAt}
	if err := s.store.CreateMailThread(ctx, t, m); errors.Is(err, store.ErrNotFound) {
		return "", ErrNotFound
	} else if err != nil {
		return "", fmt.Errorf("mailbox: create thread: %w", err)
	}
	return id, nil
}

// firstInput returns the first *InputError of errs (subject before text).
func firstInput(errs ...error) error {
	for _, err := range errs {
		var in *InputError
		if errors.As(err, &in) {
			return in
		}
	}
	return errors.Join(errs...)
}

// Hit is a thread a search found, with the place that matched.
type Hit struct {
	Summary
	Snippet string
}

// Search finds the person's threads whose subject or messages contain every
// word of query (case and umlauts folded: "Ärztin" finds "aerztin"), newest
// first. It reads the newest Config.SearchLimit messages.
func (s *Service) Search(ctx context.Context, person store.PersonID, level session.Level, query string) ([]Hit, error) {
	if !mayRead(level) {
		return nil, ErrLevel
	}
	query = strings.TrimSpace(query)
	if !utf8.ValidString(query) || utf8.RuneCountInString(query) > 100 {
		return nil, &InputError{Field: "query", Msg: "Der Suchbegriff ist zu lang. Bitte suchen Sie nach höchstens 100 Zeichen.", Text: lang.Key("mailbox.input.query_long")}
	}
	terms := strings.Fields(fold(query))
	if len(terms) == 0 {
		return nil, &InputError{Field: "query", Msg: "Bitte geben Sie einen Suchbegriff ein.", Text: lang.Key("mailbox.input.query_missing")}
	}
	var threads []store.MailThread
	for _, archived := range []bool{false, true} {
		ts, err := s.store.MailThreads(ctx, person, store.MailThreadQuery{Archived: archived, Limit: s.cfg.SearchLimit})
		if err != nil {
			return nil, fmt.Errorf("mailbox: search: %w", err)
		}
		threads = append(threads, ts...)
	}
	msgs, err := s.store.MailMessages(ctx, person, s.cfg.SearchLimit)
	if err != nil {
		return nil, fmt.Errorf("mailbox: search: %w", err)
	}
	texts := map[string][]string{} // thread → its texts, newest first
	for _, m := range msgs {
		if m.Body.IsZero() {
			continue
		}
		b, err := s.sealer.OpenFor(m.Body, place("mail_messages", "body", m.ID))
		if err != nil {
			return nil, fmt.Errorf("mailbox: open message %s: %w", m.ID, err)
		}
		texts[m.ThreadID] = append(texts[m.ThreadID], string(b))
	}
	var hits []Hit
	for _, t := range threads {
		subject, noticeText, err := s.subject(t)
		if err != nil {
			return nil, err
		}
		candidates := append([]string{subject}, texts[t.ID]...)
		if noticeText != "" {
			candidates = append(candidates, noticeText)
		}
		all := fold(strings.Join(candidates, "\n"))
		if !containsAll(all, terms) {
			continue
		}
		sum, err := s.summary(t)
		if err != nil {
			return nil, err
		}
		hits = append(hits, Hit{Summary: sum, Snippet: snippet(candidates, terms[0])})
	}
	slices.SortStableFunc(hits, func(a, b Hit) int { return b.LastAt.Compare(a.LastAt) })
	return hits, nil
}

func containsAll(s string, terms []string) bool {
	for _, t := range terms {
		if !strings.Contains(s, t) {
			return false
		}
	}
	return true
}

// fold lowers s and spells umlauts and ß out, so that either spelling finds
// the other.
func fold(s string) string {
	return strings.NewReplacer("ä", "ae", "ö", "oe", "ü", "ue", "ß", "ss").Replace(strings.ToLower(s))
}

// snippet is up to 160 characters around the first place term occurs.
func snippet(texts []string, term string) string {
	for _, t := range texts {
		words := strings.Fields(t)
		for i, w := range words {
			if strings.Contains(fold(w), term) {
				from := max(0, i-8)
				s := strings.Join(words[from:min(len(words), i+16)], " ")
				if r := []rune(s); len(r) > 160 {
					s = string(r[:160]) + "…"
				}
				if from > 0 {
					s = "… " + s
				}
				return s
			}
		}
	}
	return ""
}
