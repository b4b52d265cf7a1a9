package email

import (
	"strings"
	"time"

	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/store"
)

// text is a mail's subject and plain-text body, and its unsubscribe link.
type text struct {
	subject, body, unsubscribe string
}

// Paths of the pages the mails link to.
const (
	ConfirmPath     = "/email/bestaetigen"
	UnsubscribePath = "/email/abbestellen"
	MailboxPath     = "/postfach"
)

func link(cfg SenderConfig, path, token string) string {
	u := strings.TrimRight(cfg.PortalURL, "/") + path
	if token != "" {
		u += "?t=" + token
	}
	return u
}

// Salutation greets the person by salutation and family name ("Guten Tag
// Frau Dr. Muster"), neutrally when the register knows no salutation.
func Salutation(p store.Person) string {
	if (p.Salutation != "Frau" && p.Salutation != "Herr") || p.FamilyName == "" {
		return "Guten Tag"
	}
	name := p.FamilyName
	if p.Title != "" {
		name = p.Title + " " + name
	}
	return "Guten Tag " + p.Salutation + " " + name
}

func signature(cfg SenderConfig) string {
	s := "Mit freundlichen Grüßen\n" + cfg.InsurerName + "\n"
	if cfg.Phone != "" {
		s += "Telefon " + cfg.Phone + "\n"
	}
	return s
}

// messageText says that a message waits in the Postfach: no subject, no
// content, no personal data beyond the salutation.
func messageText(cfg SenderConfig, p store.Person, unsubToken string) text {
	unsub := link(cfg, UnsubscribePath, unsubToken)
	body := Salutation(p) + ",\n\n" +
		"in Ihrem Postfach bei " + cfg.InsurerName + " liegt eine neue Nachricht für Sie.\n" +
		"Bitte melden Sie sich an, um sie zu lesen:\n\n" + link(cfg, MailboxPath, "") + "\n\n" +
		"Aus Gründen des Datenschutzes steht der Inhalt nicht in dieser E-Mail.\n\n" +
		signature(cfg) + "\n" +
		"Sie möchten keine Benachrichtigungen per E-Mail mehr erhalten? Hier abbestellen:\n" + unsub + "\n"
	return text{subject: "Neue Nachricht in Ihrem Postfach", body: body, unsubscribe: unsub}
}

// confirmText carries the confirmation link. It greets neutrally: the
// address may be a stranger's, typed by mistake.
func confirmText(cfg SenderConfig, token string, until time.Time) text {
	body := "Guten Tag,\n\n" +
		"diese E-Mail-Adresse wurde für Benachrichtigungen von " + cfg.InsurerName + " angegeben.\n" +
		"Bitte bestätigen Sie sie über diesen Link:\n\n" + link(cfg, ConfirmPath, token) + "\n\n" +
		"Der Link gilt einmal, bis zum " + lang.German.DateTime(until) + ".\n\n" +
		"Sie haben diese Adresse nicht angegeben? Dann brauchen Sie nichts zu tun: ohne Bestätigung\n" +
		"erhalten Sie keine weiteren E-Mails.\n\n" + signature(cfg)
	return text{subject: "Bitte bestätigen Sie Ihre E-Mail-Adresse", body: body}
}
