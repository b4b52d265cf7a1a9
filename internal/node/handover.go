package node

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pforte/pforte/internal/assistant"
	"github.com/pforte/pforte/internal/mailbox"
	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

// dbConversations keeps the assistant's conversations in the database, so
// that a question asked on one node can be handed over on another. The
// masked question is sealed at rest, bound to its conversation and asker.
// Turns of an anonymous asker (no session) are not kept: they could never
// be handed over.
type dbConversations struct {
	store  store.AssistantConversations
	sealer *seal.Keyring
}

var _ assistant.Conversations = dbConversations{}

// questionPlace binds a sealed question to its conversation and asker: a
// question copied to another conversation or asker does not open.
func questionPlace(conversation assistant.ConversationID, asker string) []byte {
	return seal.Place("assistant_turns", "question", string(conversation)+"/"+asker)
}

func (c dbConversations) Append(ctx context.Context, id assistant.ConversationID, t assistant.Turn) error {
	if t.Asker == "" {
		return nil
	}
	q, err := c.sealer.SealFor([]byte(t.Question), questionPlace(id, t.Asker))
	if err != nil {
		return fmt.Errorf("node: seal the assistant's question: %w", err)
	}
	masked := make([]string, len(t.Masked))
	for i, m := range t.Masked {
		masked[i] = string(m)
	}
	return c.store.AppendAssistantTurn(ctx, store.AssistantTurn{Conversation: string(id), Asker: t.Asker, At: t.At,
		Question: q, Masked: masked, Entry: t.Entry, Confidence: t.Confidence, Handover: string(t.Handover)})
}

func (c dbConversations) Turns(ctx context.Context, id assistant.ConversationID, since time.Time) ([]assistant.Turn, error) {
	rows, err := c.store.AssistantTurns(ctx, string(id), since, assistant.MaxTurns)
	if err != nil {
		return nil, err
	}
	out := make([]assistant.Turn, 0, len(rows))
	for _, r := range rows {
		q, err := c.sealer.OpenFor(r.Question, questionPlace(id, r.Asker))
		if err != nil {
			return nil, fmt.Errorf("node: open the assistant's question: %w", err)
		}
		t := assistant.Turn{At: r.At, Asker: r.Asker, Question: string(q), Entry: r.Entry, Confidence: r.Confidence,
			Handover: assistant.Reason(r.Handover)}
		for _, m := range r.Masked {
			t.Masked = append(t.Masked, assistant.Sensitive(m))
		}
		out = append(out, t)
	}
	return out, nil
}

func (c dbConversations) DeleteBefore(ctx context.Context, t time.Time) (int, error) {
	return c.store.DeleteAssistantTurnsBefore(ctx, t)
}

// bearerAsker tells the assistant's API who asks: the person of the
// request's bearer token (the service app), with the session's level. The
// API does not take the portal's cookie, so no other site can make a
// browser hand a conversation over. The asker is the person's store id.
type bearerAsker struct{ tokens *session.Manager }

func (s bearerAsker) SessionLevel(r *http.Request) (level, person string, ok bool) {
	scheme, tok, found := strings.Cut(r.Header.Get("Authorization"), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") || tok == "" || len(tok) > 512 {
		return "", "", false
	}
	sess, err := s.tokens.Authenticate(r.Context(), session.Token(tok))
	if err != nil {
		return "", "", false
	}
	return sess.Level, strconv.FormatInt(int64(sess.PersonID), 10), true
}

// cookieAsker tells the assistant's page who asks: the person of the
// portal cookie, with the session's level.
type cookieAsker struct {
	browser interface {
		Session(r *http.Request) (store.Session, bool)
	}
}

func (s cookieAsker) SessionLevel(r *http.Request) (level, person string, ok bool) {
	sess, ok := s.browser.Session(r)
	if !ok {
		return "", "", false
	}
	return sess.Level, strconv.FormatInt(int64(sess.PersonID), 10), true
}

// staffMailbox sends a hand-over as a message from the person to staff: a
// new thread in the staff inbox whose text is the draft, which holds only
// the masked conversation.
type staffMailbox struct{ mailbox *mailbox.Service }

// historyMark begins the conversation in a draft's body (assistant.Draft).
const historyMark = "\nVerlauf:\n"

// shortened notes that the oldest questions did not fit into the message.
const shortened = "(Ältere Fragen aus diesem Gespräch passten nicht in die Nachricht.)\n"

// fitBody returns body if it has at most limit characters; otherwise its
// header and as many of the conversation's latest lines as fit, with a
// note that older ones were left out. The latest questions matter most to
// staff, and a long conversation never turns a hand-over into an error.
func fitBody(body string, limit int) string {
	if utf8.RuneCountInString(body) <= limit {
		return body
	}
	head, history, found := strings.Cut(body, historyMark)
	head += historyMark + shortened
	if !found || utf8.RuneCountInString(head) > limit {
		r := []rune(body)
		return string(r[:limit])
	}
	lines := strings.SplitAfter(history, "\n")
	room := limit - utf8.RuneCountInString(head)
	first := len(lines)
	for first > 0 && utf8.RuneCountInString(lines[first-1]) <= room {
		room -= utf8.RuneCountInString(lines[first-1])
		first--
	}
	return head + strings.Join(lines[first:], "")
}

// errAsker: the asker is not a person id of this node's (it comes from
// askerSessions, so this does not happen).
var errAsker = errors.New("node: the assistant's asker is not a person")

func (m staffMailbox) SendToStaff(ctx context.Context, person string, d assistant.Draft) error {
	id, err := strconv.ParseInt(person, 10, 64)
	if err != nil || id <= 0 {
		return errAsker
	}
	// assistant.Draft only drafts for level substantial or higher, the
	// level the mailbox asks of a writer.
	body := fitBody(d.Body, m.mailbox.Limits().MaxTextRunes)
	if _, err := m.mailbox.Write(ctx, store.PersonID(id), session.LevelSubstantial, d.Subject, body, nil); err != nil {
		return fmt.Errorf("node: hand the assistant's conversation over: %w", err)
	}
	return nil
}
