package letter

import "github.com/pforte/pforte/internal/lang"

// content is the text of one letter, in the order it is printed. For kinds
// with secrets the secret block sits between intro and steps.
type content struct {
	title      string   // document title in the PDF metadata; no personal data
	subject    string   // bold subject line
	intro      []string // paragraphs after the salutation
	stepsTitle string   // bold line above the numbered steps
	steps      []string
	after      []string // paragraphs after the steps
	alertBold  string   // the fraud notice: a bold question and the phone number
	alertRest  string   // what happens when they call
}

// letterText returns the German text of l. s is the sender; times are already
// in the renderer's location. The text never contains a secret: the password
// and the QR code are drawn by the secret block.
func letterText(s Sender, l Letter) content {
	const notAsked = "Haben Sie diesen Brief nicht angefordert? Rufen Sie uns an: "
	const notYou = "Waren Sie das nicht? Rufen Sie uns bitte sofort an: "
	keepSafe := "Bewahren Sie diesen Brief sicher auf und geben Sie ihn nicht weiter. " +
		"Wir fragen Sie niemals am Telefon oder per E-Mail nach Ihrem Passwort."

	switch l.Kind {
	case KindPassword:
		until := lang.Date(l.ValidUntil)
		return content{
			title:   "Ihre Zugangsdaten",
			subject: "Ihre Zugangsdaten für das Online-Portal und die Service-App",
			intro: []string{
				"Sie haben Zugangsdaten für unser Online-Portal und unsere Service-App angefordert. " +
					"Mit diesem Brief erhalten Sie Ihr persönliches Initialpasswort und einen QR-Code, " +
					"mit dem Sie Ihr Smartphone mit Ihrem Zugang verbinden.",
			},
			stepsTitle: "So geht es weiter:",
			steps: []string{
				"Öffnen Sie das Portal unter " + s.Web + ".",
				"Melden Sie sich mit Ihrer Krankenversichertennummer (KVNR) und dem Initialpasswort an. " +
					"Ihre KVNR steht auf Ihrer Gesundheitskarte.",
				"Wählen Sie danach Ihr eigenes Passwort. Das Initialpasswort gilt nur für diese erste Anmeldung.",
				"Öffnen Sie die Service-App auf Ihrem Smartphone und scannen Sie den QR-Code. " +
					"So verbinden Sie Ihr Smartphone mit Ihrem Zugang.",
			},
			after: []string{
				"Initialpasswort und QR-Code können Sie nur einmal verwenden. Sie sind gültig bis " + until +
					". Danach können Sie im Portal neue Zugangsdaten anfordern.",
				keepSafe,
			},
			alertBold: notAsked + s.Phone,
			alertRest: "Wir sperren die Zugangsdaten dann sofort.",
		}
	case KindPasswordReset:
		until := lang.Date(l.ValidUntil)
		return content{
			title:   "Neues Passwort festlegen",
			subject: "Ihr Code für ein neues Passwort",
			intro: []string{
				"Sie haben mitgeteilt, dass Sie Ihr Passwort für unser Online-Portal vergessen haben. " +
					"Mit dem Rücksetzcode in diesem Brief legen Sie ein neues Passwort fest. " +
					"Ihr bisheriges Passwort gilt weiter, bis Sie das tun.",
			},
			stepsTitle: "So geht es weiter:",
			steps: []string{
				"Öffnen Sie das Portal unter " + s.Web + " und wählen Sie „Passwort vergessen“ und dann „Code aus dem Brief eingeben“.",
				"Geben Sie Ihre Krankenversichertennummer (KVNR) und den Rücksetzcode ein.",
				"Wählen Sie Ihr neues Passwort.",
			},
			after: []string{
				"Der Rücksetzcode und der QR-Code gelten nur einmal und bis " + until + ".",
				"Verbundene Smartphones bleiben verbunden. Die nächste wichtige Änderung geben Sie wie gewohnt in der Service-App frei.",
				keepSafe,
			},
			alertBold: notAsked + s.Phone,
			alertRest: "Wir sperren den Code dann sofort.",
		}
	case KindActivation:
		until := lang.Date(l.ValidUntil)
		return content{
			title:   "Ihr QR-Code für die Service-App",
			subject: "Ihr QR-Code für die Service-App",
			intro: []string{
				"Sie möchten Ihr Smartphone mit Ihrem Zugang verbinden. " +
					"Dafür erhalten Sie mit diesem Brief Ihren persönlichen QR-Code.",
			},
			stepsTitle: "So geht es weiter:",
			steps: []string{
				"Öffnen Sie die Service-App auf Ihrem Smartphone.",
				"Melden Sie sich mit Ihrer Krankenversichertennummer (KVNR) und Ihrem Passwort an.",
				"Scannen Sie den QR-Code. So verbinden Sie Ihr Smartphone mit Ihrem Zugang.",
			},
			after: []string{
				"Den QR-Code können Sie nur einmal verwenden. Er ist gültig bis " + until +
					". Danach können Sie im Portal unter " + s.Web + " einen neuen QR-Code anfordern.",
				keepSafe,
			},
			alertBold: notAsked + s.Phone,
			alertRest: "Wir sperren den QR-Code dann sofort.",
		}
	case KindDeviceBound:
		return content{
			title:   "Neues Gerät verbunden",
			subject: "Neues Gerät mit Ihrem Zugang verbunden",
			intro: []string{
				"Ihr Zugang wurde am " + lang.DateTime(l.ChangedAt) + " mit dem Gerät „" + l.DeviceName +
					"“ verbunden. Mit diesem Gerät können Sie sich jetzt anmelden und Änderungen freigeben.",
				"Waren Sie das? Dann müssen Sie nichts weiter tun. Welche Geräte mit Ihrem Zugang " +
					"verbunden sind, sehen Sie jederzeit im Portal unter " + s.Web + ".",
			},
			alertBold: notYou + s.Phone,
			alertRest: "Wir trennen das Gerät dann von Ihrem Zugang.",
		}
	case KindPasswordChanged:
		return content{
			title:   "Passwort geändert",
			subject: "Ihr Passwort wurde geändert",
			intro: []string{
				"Das Passwort für Ihren Zugang zum Online-Portal und zur Service-App wurde am " +
					lang.DateTime(l.ChangedAt) + " geändert.",
				"Waren Sie das? Dann müssen Sie nichts weiter tun.",
			},
			alertBold: notYou + s.Phone,
			alertRest: "Wir sperren Ihren Zugang dann und helfen Ihnen, wieder sicher hineinzukommen.",
		}
	case KindAddressChanged:
		return content{
			title:   "Anschrift geändert",
			subject: "Ihre Anschrift wurde geändert",
			intro: []string{
				"Die Anschrift, die wir für Sie gespeichert haben, wurde am " + lang.DateTime(l.ChangedAt) +
					" geändert. Wir schreiben Ihnen an Ihre bisherige Anschrift, damit Sie davon erfahren. " +
					"Aus Datenschutzgründen nennen wir die neue Anschrift in diesem Brief nicht.",
				"Waren Sie das? Dann müssen Sie nichts weiter tun.",
			},
			alertBold: notYou + s.Phone,
			alertRest: "Wir prüfen die Änderung dann und machen sie rückgängig, wenn sie nicht von Ihnen stammt.",
		}
	case KindBankChanged:
		return content{
			title:   "Bankverbindung geändert",
			subject: "Ihre Bankverbindung wurde geändert",
			intro: []string{
				"Die Bankverbindung, die wir für Sie gespeichert haben, wurde am " + lang.DateTime(l.ChangedAt) +
					" geändert und auf Ihrem Smartphone freigegeben. Aus Datenschutzgründen nennen wir " +
					"die neue Bankverbindung in diesem Brief nicht.",
				"Waren Sie das? Dann müssen Sie nichts weiter tun.",
			},
			alertBold: notYou + s.Phone,
			alertRest: "Wir halten Zahlungen an die neue Bankverbindung dann an und machen die Änderung rückgängig.",
		}
	case KindDeviceRemoved:
		return content{
			title:   "Gerät getrennt",
			subject: "Ein Gerät wurde von Ihrem Zugang getrennt",
			intro: []string{
				"Das Gerät „" + l.DeviceName + "“ wurde am " + lang.DateTime(l.ChangedAt) +
					" von Ihrem Zugang getrennt. Mit diesem Gerät können Sie sich nicht mehr anmelden " +
					"und keine Änderungen mehr freigeben.",
				"Waren Sie das? Dann müssen Sie nichts weiter tun. Ein neues Gerät verbinden Sie im Portal unter " +
					s.Web + ".",
			},
			alertBold: notYou + s.Phone,
			alertRest: "Wir sperren Ihren Zugang dann und helfen Ihnen, wieder sicher hineinzukommen.",
		}
	case KindLoginLocked:
		return content{
			title:   "Anmeldung gesperrt",
			subject: "Ihre Anmeldung mit Passwort wurde wiederholt gesperrt",
			intro: []string{
				"Am " + lang.DateTime(l.ChangedAt) + " wurde die Anmeldung mit Ihrem Passwort zum wiederholten Mal " +
					"nach zu vielen falschen Passwörtern vorübergehend gesperrt.",
				"Solange die Sperre gilt, können Sie sich im Portal mit Ihrem Passwort und einer Bestätigung " +
					"in der Service-App anmelden, sich in der Service-App anmelden oder unter " + s.Web +
					" ein neues Passwort anfordern.",
			},
			alertBold: "Haben Sie das Passwort nicht selbst falsch eingegeben? Rufen Sie uns bitte an: " + s.Phone,
			alertRest: "Dann versucht vielleicht jemand, Ihr Passwort zu erraten. Ihr Zugang bleibt geschützt.",
		}
	case KindPINLocked:
		where := ""
		if l.DeviceName != "" {
			where = " auf dem Gerät „" + l.DeviceName + "“"
		}
		return content{
			title:   "Freigabe-PIN gesperrt",
			subject: "Ihre Freigabe-PIN wurde gesperrt",
			intro: []string{
				"Ihre Freigabe-PIN wurde am " + lang.DateTime(l.ChangedAt) + where +
					" nach zu vielen falschen Eingaben gesperrt. Solange sie gesperrt ist, " +
					"können Sie mit Ihrem Smartphone keine Änderungen freigeben.",
				"Um eine neue Freigabe-PIN festzulegen, melden Sie sich im Portal unter " + s.Web +
					" an und folgen Sie den Hinweisen.",
			},
			alertBold: "Haben Sie die PIN nicht selbst eingegeben? Rufen Sie uns bitte sofort an: " + s.Phone,
			alertRest: "Dann hat vielleicht jemand anderes Ihr Smartphone benutzt.",
		}
	}
	return content{}
}
