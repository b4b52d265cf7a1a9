package store

import (
	"context"
	"time"
)

// MailDirection says which way a mailbox message went.
type MailDirection string

// The directions of a mailbox message.
const (
	// MailToPerson is a message of the insurer (staff, an operator, or a
	// notice) to the insured person.
	MailToPerson MailDirection = "to_person"
	// MailFromPerson is a message of the insured person to the insurer.
	MailFromPerson MailDirection = "from_person"
)

// Valid reports whether d is one of the directions.
func (d MailDirection) Valid() bool { return d == MailToPerson || d == MailFromPerson }

// MailThread is one conversation in a person's mailbox (Postfach). Its
// subject is sealed by the caller; the store never sees it in clear. A
// thread that carries a notice (NoticeID set) has no subject of its own: it
// is told from the notice's kind and details when it is read.
type MailThread struct {
	ID       string
	PersonID PersonID
	Subject  Sealed
	// NoticeID names the notice (store.Notice) the thread reports; "" for
	// a conversation. Kind, details and count come from that notice.
	NoticeID      string
	NoticeKind    string
	NoticeDetails Sealed
	NoticeCount   int
	// ReplyBy is the day by which the insurer asks for an answer; zero:
	// none asked for.
	ReplyBy   time.Time
	Archived  bool
	CreatedAt time.Time
	LastAt    time.Time // the newest message's time
	// Unread counts the thread's messages to the person they have not read;
	// UnreadByStaff those from the person staff have not read. Messages
	// counts all. All three are computed when the thread is read.
	Unread        int
	UnreadByStaff int
	Messages      int
}

// MailMessage is one message of a thread. Its body is sealed by the caller.
type MailMessage struct {
	ID        string
	ThreadID  string
	PersonID  PersonID
	Direction MailDirection
	// Author is who wrote a message to the person: a staff member's id,
	// "operator" for the command line, "notice" for a notice; "" for a
	// message from the person.
	Author    string
	Body      Sealed
	CreatedAt time.Time
	// ReadAt is when the recipient (the person, or staff) first read it;
	// zero while unread.
	ReadAt      time.Time
	Attachments []MailAttachment
}

// MailAttachment is a file of a message. Name and Content are sealed by the
// caller; Type ("application/pdf", "image/jpeg", "image/png") and Size are
// checked by the caller before it is stored. Listings leave Content empty;
// MailAttachment returns it.
type MailAttachment struct {
	ID        string
	MessageID string
	Type      string
	Size      int64
	Name      Sealed
	Content   Sealed
}

// MailThreadQuery selects a person's threads for a listing.
type MailThreadQuery struct {
	Archived bool // the archive instead of the inbox
	// Before continues a listing: only threads whose (LastAt, ID) comes
	// before it, newest first. Zero: from the newest.
	BeforeAt time.Time
	BeforeID string
	Limit    int
}

// Mailbox is the contract of the persons' mailboxes. Every method that takes
// a person reads and changes only that person's threads: a thread of
// another person is ErrNotFound, exactly as one that does not exist.
type Mailbox interface {
	// CreateMailThread stores t with its first message m (and m's
	// attachments) in one transaction. ErrConflict when an id is taken;
	// ErrNotFound when t.PersonID is no person.
	CreateMailThread(ctx context.Context, t MailThread, m MailMessage) error
	// AddMailMessage adds m (and its attachments) to the thread m.ThreadID
	// of m.PersonID, moves the thread's LastAt to m.CreatedAt and takes it
	// out of the archive. ErrNotFound when the thread is not that
	// person's; ErrConflict when an id is taken.
	AddMailMessage(ctx context.Context, m MailMessage) error
	// MailThreads lists a person's threads, newest message first, with
	// their counts.
	MailThreads(ctx context.Context, person PersonID, q MailThreadQuery) ([]MailThread, error)
	// MailThread returns a thread of person with its messages, oldest
	// first, their attachments without content.
	MailThread(ctx context.Context, person PersonID, id string) (MailThread, []MailMessage, error)
	// MailThreadOwner returns the person whose thread id is, for staff,
	// who address threads by id alone. ErrNotFound for an unknown id.
	MailThreadOwner(ctx context.Context, id string) (PersonID, error)
	// MarkMailRead sets ReadAt to now on the thread's unread messages of
	// direction dir, and returns how many it marked.
	MarkMailRead(ctx context.Context, person PersonID, thread string, dir MailDirection, now time.Time) (int, error)
	// SetMailArchived moves a thread of person into or out of the archive.
	SetMailArchived(ctx context.Context, person PersonID, thread string, archived bool) error
	// MailAttachment returns an attachment of a message in a thread of
	// person, with its content.
	MailAttachment(ctx context.Context, person PersonID, id string) (MailAttachment, error)
	// MailUnread counts the person's unread messages to them, archived
	// threads included.
	MailUnread(ctx context.Context, person PersonID) (int, error)
	// MailMessages returns up to limit of the person's messages, newest
	// first, without attachments: what a search reads.
	MailMessages(ctx context.Context, person PersonID, limit int) ([]MailMessage, error)
	// StaffMailInbox lists threads with messages from persons that staff
	// have not read, oldest unread first, at most limit.
	StaffMailInbox(ctx context.Context, limit int) ([]MailThread, error)
}
