package mailbox

import (
	"fmt"
	"strings"

	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/notice"
	"github.com/pforte/pforte/internal/store"
)

// NoticeTexts tells a notice thread's subject and text: the subject of the
// notice's letter, and a text of its own for the mailbox (the letter's text
// speaks of the letter and of the address it goes to). Texts are German;
// a page says the subject in its language (NoticeSubject); times are German
// local time.
type NoticeTexts struct {
	sealer notice.Sealer
	phone  string // the insurer's service telephone
}

// NewNoticeTexts returns the notice texts; phone is the insurer's service
// telephone, which the texts name for "that was not me".
func NewNoticeTexts(sealer notice.Sealer, phone string) *NoticeTexts {
	return &NoticeTexts{sealer: sealer, phone: phone}
}

var _ NoticeTeller = (*NoticeTexts)(nil)

// noticeTexts are the texts by kind: %[1]s is the time, %[2]s the device's
// name (escaped for Markdown), %[3]s the service telephone.
var noticeTexts = map[notice.Kind]string{
	notice.PasswordChanged: "Das Passwort für Ihren Zugang zum Online-Portal und zur Service-App wurde am %[1]s geändert. " +
		"Wenn Sie das selbst getan haben, müssen Sie nichts weiter tun.\n\n" +
		"**Waren Sie das nicht?** Rufen Sie uns bitte sofort an: %[3]s. Wir sperren Ihren Zugang dann.",
	notice.DeviceBound: "Ihr Zugang wurde am %[1]s mit dem Gerät „%[2]s“ verbunden. Mit diesem Gerät können Sie sich anmelden und " +
		"Änderungen freigeben. Welche Geräte verbunden sind, sehen Sie unter „Meine Geräte“.\n\n" +
		"**Waren Sie das nicht?** Rufen Sie uns bitte sofort an: %[3]s. Wir trennen das Gerät dann von Ihrem Zugang.",
	notice.DeviceRemoved: "Das Gerät „%[2]s“ wurde am %[1]s von Ihrem Zugang getrennt. Mit diesem Gerät können Sie sich nicht mehr " +
		"anmelden und keine Änderungen mehr freigeben. Ein neues Gerät verbinden Sie unter „Meine Geräte“.\n\n" +
		"**Waren Sie das nicht?** Rufen Sie uns bitte sofort an: %[3]s.",
	notice.PINLocked: "Ihre Freigabe-PIN wurde am %[1]s nach zu vielen falschen Eingaben gesperrt%[2]s. Solange sie gesperrt ist, können " +
		"Sie mit Ihrem Smartphone keine Änderungen freigeben. Eine neue PIN legen Sie unter „Meine Geräte“ fest.\n\n" +
		"**Haben Sie die PIN nicht selbst eingegeben?** Dann hat vielleicht jemand anderes Ihr Smartphone benutzt. " +
		"Rufen Sie uns bitte sofort an: %[3]s.",
	notice.AddressChanged: "Die Anschrift, die wir für Sie gespeichert haben, wurde am %[1]s geändert. Einen Brief darüber schicken wir " +
		"auch an Ihre bisherige Anschrift.\n\n" +
		"**Waren Sie das nicht?** Rufen Sie uns bitte sofort an: %[3]s. Wir prüfen die Änderung dann und machen sie rückgängig.",
	notice.BankChanged: "Die Bankverbindung, die wir für Sie gespeichert haben, wurde am %[1]s geändert und auf Ihrem Smartphone " +
		"freigegeben. Aus Datenschutzgründen nennen wir die neue Bankverbindung hier nicht.\n\n" +
		"**Waren Sie das nicht?** Rufen Sie uns bitte sofort an: %[3]s. Wir halten Zahlungen an die neue Bankverbindung dann an.",
	notice.LoginLocked: "Am %[1]s wurde die Anmeldung mit Ihrem Passwort zum wiederholten Mal nach zu vielen falschen Passwörtern " +
		"vorübergehend gesperrt. Solange die Sperre gilt, melden Sie sich mit Ihrem Passwort und einer Bestätigung in der " +
		"Service-App an.\n\n**Haben Sie das Passwort nicht selbst falsch eingegeben?** Dann versucht vielleicht jemand, es zu " +
		"erraten. Rufen Sie uns bitte an: %[3]s.",
}

// TellNotice implements NoticeTeller.
func (n *NoticeTexts) TellNotice(noticeID, kind string, details store.Sealed, count int) (string, string, error) {
	k := notice.Kind(kind)
	format, ok := noticeTexts[k]
	if !ok {
		return "", "", fmt.Errorf("mailbox: notice kind %q has no text", kind)
	}
	d, err := notice.OpenDetails(n.sealer, noticeID, details)
	if err != nil {
		return "", "", err
	}
	device := markdownText(d.Device)
	if k == notice.PINLocked && d.Device != "" {
		device = " (auf dem Gerät „" + device + "“)"
	}
	text := fmt.Sprintf(format, lang.German.DateTime(d.At), device, markdownText(n.phone))
	if count > 1 {
		text += fmt.Sprintf("\n\nDas ist an diesem Tag %d-mal geschehen; diese Nachricht nennt den ersten Zeitpunkt.", count)
	}
	return NoticeSubject(lang.German, kind), text, nil
}

// NoticeSubject is the subject of the letter of a notice of kind (a
// notice.Kind) in l: a notice thread's subject as a page in l says it.
func NoticeSubject(l lang.Language, kind string) string {
	switch notice.Kind(kind) {
	case notice.PasswordChanged:
		return l.T("letter.password_changed.subject")
	case notice.DeviceBound:
		return l.T("letter.device_bound.subject")
	case notice.DeviceRemoved:
		return l.T("letter.device_removed.subject")
	case notice.PINLocked:
		return l.T("letter.pin_locked.subject")
	case notice.AddressChanged:
		return l.T("letter.address_changed.subject")
	case notice.BankChanged:
		return l.T("letter.bank_changed.subject")
	case notice.LoginLocked:
		return l.T("letter.login_locked.subject")
	}
	return l.T("mailbox.page.notice_kind")
}

// markdownText escapes the characters the Markdown subset gives a meaning,
// so a value (a device's name) is shown as it is.
func markdownText(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("\\`*_{}[]()<>#+-.!|~&", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
