package assistant

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Errors of Draft.
var (
	// ErrNoConversation: the conversation is unknown, not the asker's, or
	// older than the retention.
	ErrNoConversation = errors.New("assistant: no such conversation")
	// ErrLevel: the mailbox hand-over needs level substantial.
	ErrLevel = errors.New("assistant: the mailbox hand-over needs level substantial")
)

// Draft is the mailbox message to staff a hand-over becomes: everything the
// mailbox needs, and nothing that masking removed.
type Draft struct {
	// Subject and Body are the message in German; Body holds the masked
	// conversation.
	Subject string
	Body    string
	// Reason is the reason of the latest hand-over offered in the
	// conversation (ReasonHuman when none was offered: the person asked
	// for it themselves).
	Reason Reason
	// EntryTried is the last entry the assistant answered or tried.
	EntryTried string
	// Turns are the masked turns, oldest first (at most MaxTurns).
	Turns []Turn
}

// Draft returns the message that hands conversation id over to staff, for
// the asker at level. It needs level substantial (ErrLevel) and a
// conversation of the same asker within the retention
// (ErrNoConversation). It only reads: the node sends the draft through the
// mailbox.
func (a *Assistant) Draft(ctx context.Context, id ConversationID, asker string, level string) (Draft, error) {
	if levelRank(level) < levelRank(mailboxLevel) {
		return Draft{}, ErrLevel
	}
	if !id.wellFormed() {
		return Draft{}, ErrNoConversation
	}
	turns, err := a.conversations.Turns(ctx, id, a.now().Add(-a.cfg.Retention))
	if err != nil {
		return Draft{}, fmt.Errorf("assistant: conversation: %w", err)
	}
	var mine []Turn
	for _, t := range turns {
		if t.Asker == asker {
			mine = append(mine, t)
		}
	}
	if len(mine) == 0 || len(mine) != len(turns) {
		return Draft{}, ErrNoConversation
	}
	if len(mine) > MaxTurns {
		mine = mine[len(mine)-MaxTurns:]
	}
	d := Draft{Subject: "Frage aus dem Assistenten im Portal", Reason: ReasonHuman, Turns: mine}
	for _, t := range mine {
		if t.Handover != "" {
			d.Reason = t.Handover
		}
		if t.Entry != "" {
			d.EntryTried = t.Entry
		}
	}
	var b strings.Builder
	b.WriteString("Die versicherte Person bittet um eine Antwort des Service-Teams. ")
	b.WriteString("Persönliche Daten wurden aus den Fragen entfernt, bevor sie gespeichert wurden.\n\n")
	fmt.Fprintf(&b, "Grund: %s\n", d.Reason.german())
	if d.EntryTried != "" {
		fmt.Fprintf(&b, "Zuletzt gefundene Antwort: %s (%s)\n", d.EntryTried, a.title(d.EntryTried))
	}
	b.WriteString("\nVerlauf:\n")
	for _, t := range mine {
		fmt.Fprintf(&b, "%s – Frage: %s\n", t.At.In(berlin).Format("02.01.2006, 15:04 Uhr"), t.Question)
		switch {
		case t.Handover != "":
			fmt.Fprintf(&b, "   Assistent: Übergabe angeboten (%s)\n", t.Handover.german())
		case t.Entry != "":
			fmt.Fprintf(&b, "   Assistent: Antwort %s (Sicherheit %.0f %%)\n", t.Entry, 100*t.Confidence)
		}
	}
	d.Body = b.String()
	return d, nil
}

// title is the title of entry id ("" if unknown).
func (a *Assistant) title(id string) string {
	if i, ok := a.ix.byID[id]; ok {
		return a.kb.entries[i].Title
	}
	return ""
}

// german says the reason for staff.
func (r Reason) german() string {
	switch r {
	case ReasonOwnCase:
		return "Frage zum eigenen Anliegen (Antrag, Zahlung o. Ä.)"
	case ReasonUnsure:
		return "keine sichere Antwort gefunden"
	default:
		return "möchte mit einer Mitarbeiterin oder einem Mitarbeiter sprechen"
	}
}

// berlin is German time, for times in messages.
var berlin = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		return time.UTC
	}
	return loc
}()
