package backoffice

import "fmt"

// labels are the German names the pages show for stored values, by what
// they are: letter states and kinds, session kinds, levels and origins,
// approval actions, four-eyes kinds and identity checks. An unknown value
// is shown as stored.
var labels = map[string]map[string]string{
	"status": {"review": "wartet auf Prüfung der Anschrift", "queued": "wartet auf den Druck",
		"handed_over": "an den Druckdienst übergeben", "returned": "zurückgekommen (unzustellbar)",
		"superseded": "durch einen neueren ersetzt", "rejected": "abgelehnt"},
	"letter": {"password": "Passwortbrief", "activation": "Aktivierungsbrief", "password_reset": "Brief zum Zurücksetzen des Passworts",
		"device_bound": "Hinweis: Gerät verbunden", "device_removed": "Hinweis: Gerät entfernt",
		"password_changed": "Hinweis: Passwort geändert", "address_changed": "Hinweis: Anschrift geändert",
		"bank_changed": "Hinweis: Bankverbindung geändert", "pin_locked": "Hinweis: PIN gesperrt",
		"login_locked": "Hinweis: Anmeldung wiederholt gesperrt"},
	"session": {"browser": "Browser", "app": "App"},
	"level":   {"low": "normal", "substantial": "substanziell", "high": "hoch"},
	"origin": {"password": "Passwort", "letter": "Brief", "eid": "Online-Ausweis", "device": "Telefon",
		"egk": "Gesundheitskarte"},
	"action": {"personal.view": "Daten ansehen", "address.change": "Anschrift ändern", "bank.change": "Bankverbindung ändern",
		"portal.login": "Anmeldung im Portal", "application.submit": "Antrag stellen", "device.remove": "Gerät entfernen",
		"client.request": "Anfrage einer Anwendung", "email.change": "E-Mail-Adresse ändern",
		"family.address_change": "Anschrift für eine vertretene Person ändern"},
	"request": {kindPINReset: "PIN-Sperre aufheben", kindLetterRelease: "Brief freigeben"},
	"check":   {"ausweis": "Ausweisdokument vor Ort", "rueckruf": "Rückruf an hinterlegte Rufnummer", "eid": "Online-Ausweis in der Geschäftsstelle"},
}

// label is the German name of v (a string or fmt.Stringer) as a what.
func label(what string, v any) string {
	s := fmt.Sprint(v)
	if l, ok := labels[what][s]; ok {
		return l
	}
	return s
}
