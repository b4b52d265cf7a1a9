package mailbox

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/store"
)

// The insurer's side: staff (through the authenticated staff API) and
// operators (through the command line) write to a person, read the persons'
// messages and answer them. Staff are trusted with every mailbox; who wrote
// is kept with each message (Author).

// Outgoing is a new thread from the insurer to a person.
type Outgoing struct {
	KVNR    string
	Author  string // "staff:<id>" or "operator"
	Subject string
	Text    string // Markdown subset
	// ReplyBy asks for an answer by this day (German local date); zero:
	// none asked for.
	ReplyBy     time.Time
	Attachments []Upload
}

// ErrUnknownPerson reports a KVNR the registry does not know.
var ErrUnknownPerson = errors.New("mailbox: unknown person")

// Send starts a thread to the person of o.KVNR and returns its id.
func (s *Service) Send(ctx context.Context, o Outgoing) (string, error) {
	if err := checkAuthor(o.Author); err != nil {
		return "", err
	}
	if !o.ReplyBy.IsZero() && lang.EndOfDay(o.ReplyBy).Before(s.now()) {
		return "", &InputError{Field: "reply_by", Msg: "Das Antwortdatum liegt in der Vergangenheit. Bitte nennen Sie ein Datum ab heute."}
	}
	kvnr := strings.ToUpper(strings.TrimSpace(o.KVNR))
	if len(kvnr) != 10 {
		return "", &InputError{Field: "kvnr", Msg: "Die Versichertennummer hat 10 Zeichen: ein Buchstabe und 9 Ziffern."}
	}
	p, err := s.store.PersonByKVNR(ctx, kvnr)
	if errors.Is(err, store.ErrNotFound) {
		return "", ErrUnknownPerson
	}
	if err != nil {
		return "", fmt.Errorf("mailbox: person: %w", err)
	}
	replyBy := time.Time{}
	if !o.ReplyBy.IsZero() {
		replyBy = lang.EndOfDay(o.ReplyBy).UTC().Truncate(time.Microsecond)
	}
	return s.create(ctx, p.ID, store.MailToPerson, o.Author, o.Subject, o.Text, replyBy, o.Attachments)
}

// checkAuthor: staff messages name who wrote them.
func checkAuthor(a string) error {
	if a == "" || len(a) > 100 || !utf8.ValidString(a) || strings.ContainsFunc(a, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return &InputError{Field: "author", Msg: "Bitte nennen Sie, wer die Nachricht schreibt (höchstens 100 Zeichen)."}
	}
	return nil
}

// StaffOpen returns any thread for staff and marks the person's messages in
// it read by staff.
func (s *Service) StaffOpen(ctx context.Context, id string) (Thread, error) {
	person, err := s.owner(ctx, id)
	if err != nil {
		return Thread{}, err
	}
	th, err := s.load(ctx, person, id)
	if err != nil {
		return Thread{}, err
	}
	if th.UnreadByStaff > 0 {
		if _, err := s.store.MarkMailRead(ctx, person, id, store.MailFromPerson, s.now()); err != nil {
			return Thread{}, fmt.Errorf("mailbox: mark read: %w", err)
		}
	}
	return th, nil
}

// StaffReply answers a thread as author.
func (s *Service) StaffReply(ctx context.Context, id, author, text string, ups []Upload) (string, error) {
	if err := checkAuthor(author); err != nil {
		return "", err
	}
	person, err := s.owner(ctx, id)
	if err != nil {
		return "", err
	}
	th, err := s.load(ctx, person, id)
	if err != nil {
		return "", err
	}
	if !th.CanReply {
		return "", &InputError{Field: "text", Msg: "Benachrichtigungen nehmen keine Antwort an. Bitte beginnen Sie eine neue Nachricht."}
	}
	m, err := s.message(id, person, store.MailToPerson, author, text, ups)
	if err != nil {
		return "", err
	}
	if err := s.store.AddMailMessage(ctx, m); err != nil {
		return "", fmt.Errorf("mailbox: staff reply: %w", err)
	}
	return m.ID, nil
}

// StaffInbox lists threads with messages from persons staff have not read,
// the longest waiting first.
func (s *Service) StaffInbox(ctx context.Context, limit int) ([]Summary, error) {
	if limit <= 0 || limit > 500 {
		limit = s.cfg.PageSize
	}
	ts, err := s.store.StaffMailInbox(ctx, limit)
	if err != nil {
		return nil, fmt.Errorf("mailbox: staff inbox: %w", err)
	}
	out := make([]Summary, 0, len(ts))
	for _, t := range ts {
		sum, err := s.summary(t)
		if err != nil {
			return nil, err
		}
		out = append(out, sum)
	}
	return out, nil
}

// StaffAttachment returns an attachment of any thread.
func (s *Service) StaffAttachment(ctx context.Context, thread, id string) (File, error) {
	person, err := s.owner(ctx, thread)
	if err != nil {
		return File{}, err
	}
	th, err := s.load(ctx, person, thread)
	if err != nil {
		return File{}, err
	}
	for _, m := range th.Messages {
		for _, a := range m.Attachments {
			if a.ID == id {
				return s.attachment(ctx, person, id)
			}
		}
	}
	return File{}, ErrNotFound
}

func (s *Service) owner(ctx context.Context, id string) (store.PersonID, error) {
	if !plausibleID(id) {
		return 0, ErrNotFound
	}
	p, err := s.store.MailThreadOwner(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("mailbox: thread owner: %w", err)
	}
	return p, nil
}
