package assistant

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Disclaimer goes with every answer.
const Disclaimer = "Der Assistent gibt allgemeine Hinweise zum Online-Zugang. Seine Antworten sind nicht rechtsverbindlich; " +
	"verbindlich sind allein die Bescheide und Schreiben Ihrer Krankenkasse."

// Reason is why the assistant offers a hand-over to staff instead of an
// answer.
type Reason string

// The reasons for a hand-over.
const (
	// ReasonHuman: the person asked for a person.
	ReasonHuman Reason = "human"
	// ReasonOwnCase: the question is about the person's own case (a claim,
	// a payment, "mein Antrag"), which the knowledge base cannot know.
	ReasonOwnCase Reason = "own_case"
	// ReasonUnsure: no answer reached the configured confidence.
	ReasonUnsure Reason = "low_confidence"
)

// Channel is how the hand-over reaches staff.
type Channel string

// The channels of a hand-over.
const (
	// ChannelMailbox: a message to staff in the mailbox, with the masked
	// conversation; offered only at level substantial or high, where the
	// mailbox is open to the person.
	ChannelMailbox Channel = "mailbox"
	// ChannelPhone: the service telephone and its hours.
	ChannelPhone Channel = "phone"
)

// levelRank orders the assurance levels; unknown ones rank 0.
func levelRank(level string) int {
	switch level {
	case "low":
		return 1
	case "substantial":
		return 2
	case "high":
		return 3
	}
	return 0
}

// mailboxLevel is the least level at which the mailbox is open.
const mailboxLevel = "substantial"

// Question is what a person asks.
type Question struct {
	// Text is the question as typed; it may hold anything (markup, control
	// characters, personal data); the assistant neutralises and masks it
	// before it uses or keeps any of it.
	Text string
	// Level is the asker's session level ("", "low", "substantial",
	// "high"); the mailbox hand-over needs substantial.
	Level string
	// Asker names the person for the node (an opaque id, never a KVNR); it
	// binds the kept conversation to them.
	Asker string
	// Conversation continues a conversation; an unknown id starts a new
	// one.
	Conversation ConversationID
}

// Outcome says what kind of answer the assistant gave.
type Outcome string

// The outcomes of a question.
const (
	OutcomeAnswer   Outcome = "answer"   // an entry of the knowledge base
	OutcomeHandover Outcome = "handover" // a hand-over to staff (see Handover.Reason)
	OutcomeEmpty    Outcome = "empty"    // nothing left to ask after neutralising and masking
	OutcomeTooLong  Outcome = "too_long" // longer than Config.MaxQuestionRunes: refused
)

// Answer is the assistant's reply. Text never repeats the question.
type Answer struct {
	Outcome Outcome
	// Text is the German answer: the entry's answer, the hand-over offer, or
	// why the question could not be taken.
	Text string
	// Notice is set when personal data was masked from the question: it
	// says so and asks not to share such data here.
	Notice string
	// Entry, Title and Link are the entry answered ("" and zero when none).
	Entry string
	Title string
	Link  Link
	// Confidence is the retrieval's confidence in the best entry, 0 to 1.
	Confidence float64
	// Handover is set when the assistant hands over instead of answering.
	Handover *Handover
	// Disclaimer is always set: answers are not legally binding.
	Disclaimer string
	// Candidates are the best entries, at most three, best first; with a
	// hand-over for lack of confidence they are offered as suggestions.
	Candidates []Candidate
	// Masked lists what was masked out of the question.
	Masked []Sensitive
	// Question is the question as the assistant kept and used it:
	// neutralised and masked.
	Question string
	// Conversation is the conversation the question was kept in; empty when
	// nothing was kept (below level substantial nothing is).
	Conversation ConversationID
}

// Handover is the offer to pass the question to staff.
type Handover struct {
	Reason  Reason
	Channel Channel
	// Text offers the hand-over in German, naming telephone and hours.
	Text         string
	Phone        string
	OpeningHours string
	// EntryTried is the best entry found, if any came close.
	EntryTried string
}

// Assistant answers questions from the knowledge base and decides when to
// hand over to staff. It is safe for concurrent use.
type Assistant struct {
	cfg           Config
	kb            *knowledge
	ix            *index
	conversations Conversations
	now           func() time.Time
}

// New loads and validates the knowledge base in kb (KnowledgeBase() is the
// one shipped), fills the answers with cfg's facts and builds the index.
// A broken entry is a *LoadError naming its file and line; an invalid cfg an
// error listing every problem. conversations keeps the masked conversations
// (KeepNothing keeps none); now is the clock.
func New(cfg Config, kb fs.FS, conversations Conversations, now func() time.Time) (*Assistant, error) {
	if errs := cfg.Validate(); len(errs) > 0 {
		return nil, errConfig(errs)
	}
	if kb == nil || conversations == nil || now == nil {
		return nil, errors.New("assistant: knowledge base, conversations and clock are required")
	}
	cfg = cfg.withDefaults()
	k, err := loadKnowledge(kb, cfg.facts())
	if err != nil {
		return nil, err
	}
	ix, err := newIndex(k.entries, k.lang)
	if err != nil {
		return nil, err
	}
	return &Assistant{cfg: cfg, kb: k, ix: ix, conversations: conversations, now: now}, nil
}

// Entries returns the knowledge base's entries in file order.
func (a *Assistant) Entries() []Entry {
	out := make([]Entry, len(a.kb.entries))
	copy(out, a.kb.entries)
	return out
}

// Ask answers q. Errors come only from the context and the conversation
// store; every input, however hostile, gets an Answer.
func (a *Assistant) Ask(ctx context.Context, q Question) (Answer, error) {
	ans := Answer{Disclaimer: Disclaimer}
	// A bound on the raw bytes first, so a huge input costs nothing more.
	if len(q.Text) > 4*a.cfg.MaxQuestionRunes {
		return a.tooLong(ans), nil
	}
	text := neutralise(q.Text)
	if utf8.RuneCountInString(text) > a.cfg.MaxQuestionRunes {
		return a.tooLong(ans), nil
	}
	text, ans.Masked = mask(text)
	ans.Question = text
	if len(ans.Masked) > 0 {
		ans.Notice = maskNotice(ans.Masked)
	}
	plain := withoutPlaceholders(text)
	if !hasWord(plain) {
		ans.Outcome = OutcomeEmpty
		ans.Text = "Bitte stellen Sie Ihre Frage in ein paar Worten, zum Beispiel: „Wie lange dauert der Passwortbrief?“"
		return ans, nil
	}
	cands, err := a.ix.search(ctx, plain, 3)
	if err != nil {
		return Answer{}, err
	}
	ans.Candidates = cands
	if len(cands) > 0 {
		ans.Confidence = cands[0].Confidence
	}
	tokens := ruleTokens(plain)
	var reason Reason
	switch {
	case matchesAny(a.kb.lang.human, tokens):
		reason = ReasonHuman
	case matchesAny(a.kb.lang.ownCase, tokens):
		reason = ReasonOwnCase
	case ans.Confidence < a.cfg.MinConfidence:
		reason = ReasonUnsure
	}
	if reason == "" {
		e := a.kb.entries[a.ix.byID[cands[0].Entry]]
		ans.Outcome, ans.Text, ans.Entry, ans.Title, ans.Link = OutcomeAnswer, e.Answer, e.ID, e.Title, e.Link
	} else {
		ans.Outcome = OutcomeHandover
		ans.Handover = a.handover(reason, q.Level, cands)
		ans.Text = ans.Handover.Text
	}
	if a.mailboxOpen(q.Level) {
		id, err := a.keep(ctx, q, ans)
		if err != nil {
			return Answer{}, err
		}
		ans.Conversation = id
	}
	return ans, nil
}

func matchesAny(rules []rule, tokens []string) bool {
	_, ok := firstMatch(rules, tokens)
	return ok
}

// hasWord reports whether s holds a letter.
func hasWord(s string) bool {
	return strings.ContainsFunc(s, unicode.IsLetter)
}

func (a *Assistant) tooLong(ans Answer) Answer {
	ans.Outcome = OutcomeTooLong
	ans.Text = fmt.Sprintf("Ihre Frage ist zu lang. Bitte fassen Sie sie in höchstens %d Zeichen, am besten in einem Satz. "+
		"Persönliche Anliegen schildern Sie bitte nicht hier, sondern unserem Service-Team.", a.cfg.MaxQuestionRunes)
	return ans
}

// maskNotice tells the person what was removed and asks them not to share it.
func maskNotice(kinds []Sensitive) string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = k.german()
	}
	list := names[0]
	if len(names) > 1 {
		list = strings.Join(names[:len(names)-1], ", ") + " und " + names[len(names)-1]
	}
	return "Ihre Frage enthielt " + list + ". Das haben wir entfernt, bevor wir die Frage verwendet haben. " +
		"Bitte geben Sie hier keine persönlichen Daten ein – keine Versichertennummer, kein Passwort, keine PIN, " +
		"keine IBAN und kein Geburtsdatum. Wir fragen Sie auch nie danach."
}

// handover builds the offer for reason at the asker's level.
func (a *Assistant) handover(reason Reason, level string, cands []Candidate) *Handover {
	h := &Handover{Reason: reason, Channel: ChannelPhone, Phone: a.cfg.Phone, OpeningHours: a.cfg.OpeningHours}
	if len(cands) > 0 && cands[0].Confidence > 0 {
		h.EntryTried = cands[0].Entry
	}
	var b strings.Builder
	switch reason {
	case ReasonHuman:
		b.WriteString("Gern verbinden wir Sie mit unserem Service-Team. ")
	case ReasonOwnCase:
		b.WriteString("Zu Ihrem persönlichen Anliegen – etwa einem Antrag, einer Rechnung, einer Erstattung oder einer Zahlung – " +
			"kann der Assistent nichts sagen: Er kennt Ihre Unterlagen nicht. ")
	default:
		b.WriteString("Darauf habe ich leider keine sichere Antwort. ")
	}
	phone := fmt.Sprintf("Telefonisch erreichen Sie uns unter %s (%s).", a.cfg.Phone, a.cfg.OpeningHours)
	switch {
	case a.mailboxOpen(level):
		h.Channel = ChannelMailbox
		b.WriteString("Wenn Sie möchten, geben wir Ihre Fragen aus diesem Gespräch – ohne persönliche Daten – als Nachricht " +
			"an unsere Mitarbeiterinnen und Mitarbeiter weiter; die Antwort finden Sie dann in Ihrem Postfach. ")
		b.WriteString(phone)
	case a.cfg.NoMailbox:
		b.WriteString(phone)
	default:
		b.WriteString(phone)
		b.WriteString(" Wenn Sie im Portal angemeldet sind und die Anmeldung mit Ihrem Smartphone bestätigt haben, " +
			"können Sie Ihre Frage auch hier als Nachricht an uns weitergeben.")
	}
	if reason == ReasonUnsure && len(cands) > 0 {
		b.WriteString(" Vielleicht hilft Ihnen auch eine dieser Antworten weiter.")
	}
	h.Text = b.String()
	return h
}

// mailboxOpen reports whether an asker at level may hand over by mailbox:
// the node has the mailbox hand-over and the level opens the mailbox.
func (a *Assistant) mailboxOpen(level string) bool {
	return !a.cfg.NoMailbox && levelRank(level) >= levelRank(mailboxLevel)
}

// keep records the turn in the asker's conversation and returns its id.
func (a *Assistant) keep(ctx context.Context, q Question, ans Answer) (ConversationID, error) {
	now := a.now()
	id := q.Conversation
	if id.wellFormed() {
		turns, err := a.conversations.Turns(ctx, id, now.Add(-a.cfg.Retention))
		if err != nil {
			return "", fmt.Errorf("assistant: conversation: %w", err)
		}
		if len(turns) == 0 || turns[len(turns)-1].Asker != q.Asker {
			id = ""
		}
	} else {
		id = ""
	}
	if id == "" {
		id = newConversationID()
	}
	t := Turn{At: now, Asker: q.Asker, Question: ans.Question, Masked: ans.Masked, Entry: ans.Entry, Confidence: ans.Confidence}
	if ans.Handover != nil {
		t.Handover, t.Entry = ans.Handover.Reason, ans.Handover.EntryTried
	}
	if err := a.conversations.Append(ctx, id, t); err != nil {
		return "", fmt.Errorf("assistant: conversation: %w", err)
	}
	return id, nil
}

// Sweep removes every kept turn older than the retention and returns how
// many it removed. Every node runs it regularly; Ask and Draft never see
// older turns whether it ran or not.
func (a *Assistant) Sweep(ctx context.Context) (int, error) {
	n, err := a.conversations.DeleteBefore(ctx, a.now().Add(-a.cfg.Retention))
	if err != nil {
		return 0, fmt.Errorf("assistant: sweep: %w", err)
	}
	return n, nil
}
