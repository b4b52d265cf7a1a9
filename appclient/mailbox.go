package appclient

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The Online-Postfach as an app session reads and writes it (docs/api.md,
// "The mailbox"). An app session is at its binding's level, so subjects and
// texts come with it.

// SessionClient calls the API as one app session (Client.WithSession): the
// person's mailbox and what they do for others (family.go).
type SessionClient struct {
	c     *Client
	token string
}

// WithSession returns the calls made with the app session token.
func (c *Client) WithSession(token string) *SessionClient { return &SessionClient{c: c, token: token} }

// MailThread is one thread of the mailbox list.
type MailThread struct {
	ID           string
	Subject      string
	Notice       bool // a notice Pforte filed; it takes no reply
	Unread       int
	MessageCount int
	LastAt       time.Time
	ReplyBy      time.Time // when the insurer asks for an answer by then; zero: not asked
	Archived     bool
}

// Mailbox is the person's mailbox: the unread count and the threads,
// newest first (one page of them).
type Mailbox struct {
	Unread  int
	Threads []MailThread
}

// MailMessage is one message of a thread.
type MailMessage struct {
	ID          string
	FromPerson  bool   // written by the person; otherwise by the insurer
	Text        string // as written (the insurer's in its Markdown subset)
	At          time.Time
	Attachments []MailAttachment
}

// MailAttachment describes a message's file.
type MailAttachment struct {
	ID, Name, Type string
	Size           int64
}

// MailFile is a file to send with a message.
type MailFile struct {
	Name    string
	Content []byte
}

// MaxAttachmentBytes bounds a downloaded attachment (the server's default
// limit per file is 5 MB).
const MaxAttachmentBytes = 16 << 20

type mailThreadJSON struct {
	ID           *string    `json:"id"`
	Subject      *string    `json:"subject"`
	Notice       bool       `json:"notice"`
	Unread       int        `json:"unread"`
	MessageCount int        `json:"message_count"`
	LastAt       *time.Time `json:"last_at"`
	ReplyBy      *time.Time `json:"reply_by,omitempty"`
	Archived     bool       `json:"archived"`
}

func (j mailThreadJSON) thread() MailThread {
	t := MailThread{ID: *j.ID, Subject: *j.Subject, Notice: j.Notice, Unread: j.Unread, MessageCount: j.MessageCount,
		LastAt: *j.LastAt, Archived: j.Archived}
	if j.ReplyBy != nil {
		t.ReplyBy = *j.ReplyBy
	}
	return t
}

// Mailbox lists the mailbox (the archive with archived).
func (s *SessionClient) Mailbox(ctx context.Context, archived bool) (Mailbox, error) {
	var resp struct {
		Unread     int              `json:"unread"`
		Restricted bool             `json:"restricted"`
		Threads    []mailThreadJSON `json:"threads"`
		Next       string           `json:"next"`
	}
	path := "/api/v1/mailbox"
	if archived {
		path += "?archived=true"
	}
	if err := s.c.call(ctx, http.MethodGet, path, s.token, nil, http.StatusOK, &resp); err != nil {
		return Mailbox{}, fmt.Errorf("mailbox: %w", err)
	}
	if resp.Restricted {
		return Mailbox{}, fmt.Errorf("mailbox: %w: the session may see the unread count only", ErrResponse)
	}
	out := Mailbox{Unread: resp.Unread}
	for _, t := range resp.Threads {
		out.Threads = append(out.Threads, t.thread())
	}
	return out, nil
}

// Thread opens a thread, which marks the insurer's messages in it read, and
// reports whether it takes a reply.
func (s *SessionClient) Thread(ctx context.Context, id string) (MailThread, []MailMessage, bool, error) {
	var resp struct {
		mailThreadJSON
		CanReply bool `json:"can_reply"`
		Messages []struct {
			ID          *string    `json:"id"`
			From        *string    `json:"from"`
			Text        *string    `json:"text"`
			HTML        string     `json:"html"`
			At          *time.Time `json:"at"`
			ReadAt      *time.Time `json:"read_at,omitempty"`
			Attachments []struct {
				ID   *string `json:"id"`
				Name *string `json:"name"`
				Type *string `json:"type"`
				Size int64   `json:"size"`
				URL  string  `json:"url"`
			} `json:"attachments"`
		} `json:"messages"`
	}
	if err := s.c.call(ctx, http.MethodGet, "/api/v1/mailbox/threads/"+url.PathEscape(id), s.token, nil, http.StatusOK, &resp); err != nil {
		return MailThread{}, nil, false, fmt.Errorf("mailbox thread: %w", err)
	}
	if resp.ID == nil || resp.Subject == nil || resp.LastAt == nil {
		return MailThread{}, nil, false, fmt.Errorf("mailbox thread: %w: id, subject or last_at missing", ErrResponse)
	}
	var msgs []MailMessage
	for _, m := range resp.Messages {
		if *m.From != "person" && *m.From != "insurer" {
			return MailThread{}, nil, false, fmt.Errorf("mailbox thread: %w: from %q", ErrResponse, *m.From)
		}
		mm := MailMessage{ID: *m.ID, FromPerson: *m.From == "person", Text: *m.Text, At: *m.At}
		for _, a := range m.Attachments {
			mm.Attachments = append(mm.Attachments, MailAttachment{ID: *a.ID, Name: *a.Name, Type: *a.Type, Size: a.Size})
		}
		msgs = append(msgs, mm)
	}
	return resp.thread(), msgs, resp.CanReply, nil
}

type mailUpload struct {
	Name    string `json:"name"`
	Content string `json:"content"`
}

func uploads(files []MailFile) []mailUpload {
	out := make([]mailUpload, len(files))
	for i, f := range files {
		out[i] = mailUpload{Name: f.Name, Content: base64.StdEncoding.EncodeToString(f.Content)}
	}
	return out
}

// Reply writes text (and files) into a thread and returns the message's id.
func (s *SessionClient) Reply(ctx context.Context, thread, text string, files []MailFile) (string, error) {
	body := struct {
		Text        string       `json:"text"`
		Attachments []mailUpload `json:"attachments"`
	}{text, uploads(files)}
	var resp struct {
		ID *string `json:"id"`
	}
	if err := s.c.call(ctx, http.MethodPost, "/api/v1/mailbox/threads/"+url.PathEscape(thread)+"/messages", s.token, body, http.StatusCreated, &resp); err != nil {
		return "", fmt.Errorf("mailbox reply: %w", err)
	}
	return *resp.ID, nil
}

// Write starts a thread to the insurer and returns its id.
func (s *SessionClient) Write(ctx context.Context, subject, text string, files []MailFile) (string, error) {
	body := struct {
		Subject     string       `json:"subject"`
		Text        string       `json:"text"`
		Attachments []mailUpload `json:"attachments"`
	}{subject, text, uploads(files)}
	var resp struct {
		ID *string `json:"id"`
	}
	if err := s.c.call(ctx, http.MethodPost, "/api/v1/mailbox/threads", s.token, body, http.StatusCreated, &resp); err != nil {
		return "", fmt.Errorf("mailbox write: %w", err)
	}
	return *resp.ID, nil
}

// Attachment downloads an attachment of the person's messages.
func (s *SessionClient) Attachment(ctx context.Context, id string) (MailFile, error) {
	if err := CheckServerURL(s.c.BaseURL); err != nil {
		return MailFile{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(s.c.BaseURL, "/")+"/api/v1/mailbox/attachments/"+url.PathEscape(id), nil)
	if err != nil {
		return MailFile{}, err
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	if s.c.UserAgent != "" {
		req.Header.Set("User-Agent", s.c.UserAgent)
	}
	hc := s.c.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		return MailFile{}, fmt.Errorf("mailbox attachment: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxAttachmentBytes+1))
	if err != nil {
		return MailFile{}, fmt.Errorf("mailbox attachment: read: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return MailFile{}, fmt.Errorf("mailbox attachment: %w", parseAPIError(resp.StatusCode, b))
	}
	if len(b) > MaxAttachmentBytes {
		return MailFile{}, fmt.Errorf("mailbox attachment: %w: larger than %d bytes", ErrResponse, MaxAttachmentBytes)
	}
	name := id
	if _, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition")); err == nil && params["filename"] != "" {
		name = params["filename"]
	}
	return MailFile{Name: name, Content: b}, nil
}
