// Package answer is the one table of what a person is told when a request
// does not go through: for every outcome of the domain packages (a wrong
// password, a locked PIN, an expired approval, input of the wrong shape …)
// the HTTP status, the API's stable error code, and the German heading and
// message. The portal (package web) and the JSON API (package appapi) both
// answer from it, so the same failure reads the same on every surface and
// a new outcome is one row here.
//
// Messages reveal nothing a caller may not know: a failed login does not say
// which check failed, and no answer tells whether a KVNR exists. Each
// message says what happened and, where the person can do something, what.
// It does not own the pages or JSON bodies themselves, the links a page
// offers, or logging (each HTTP package logs an unexpected error once).
package answer

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/pforte/pforte/internal/access"
	"github.com/pforte/pforte/internal/account"
	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/device"
	"github.com/pforte/pforte/internal/egk"
	"github.com/pforte/pforte/internal/field"
	"github.com/pforte/pforte/internal/password"
)

// Answer is what a person is told about one outcome.
type Answer struct {
	// Status is the HTTP status.
	Status int
	// Code is the API's stable error code ("pin_locked").
	Code string
	// Heading is the portal page's heading.
	Heading string
	// Message is the German text: what happened, and what to do.
	Message string
	// RetryAfter, when positive, is sent as Retry-After.
	RetryAfter time.Duration
}

// Bad is a request that cannot be read (not UTF-8, not JSON, too long, a
// field missing); Message says what is wrong, in German.
type Bad struct {
	// Status is 400 (the default) or 413 (too large).
	Status  int
	Message string
}

func (e *Bad) Error() string { return "bad request: " + e.Message }

// Limited is a client that sent too many requests; it may try again after
// Wait.
type Limited struct{ Wait time.Duration }

func (e *Limited) Error() string { return fmt.Sprintf("rate limited for %v", e.Wait) }

// row is one outcome of the table.
type row struct {
	is     func(error) bool
	answer Answer
}

func is(target error) func(error) bool { return func(err error) bool { return errors.Is(err, target) } }

func as[T error]() func(error) bool {
	return func(err error) bool {
		var t T
		return errors.As(err, &t)
	}
}

// rows is the table, in the order outcomes are matched.
var rows = []row{
	// Input.
	{as[*field.Error](), Answer{Status: http.StatusBadRequest, Code: "invalid_field", Heading: "Bitte prüfen Sie Ihre Eingabe",
		Message: "Eine Angabe hat nicht die richtige Form."}},
	{as[*Bad](), Answer{Status: http.StatusBadRequest, Code: "bad_request", Heading: "Die Eingabe konnte nicht verarbeitet werden",
		Message: "Die Anfrage konnte nicht gelesen werden."}},
	{as[*Limited](), Answer{Status: http.StatusTooManyRequests, Code: "rate_limited", Heading: "Zu viele Versuche",
		Message: "Von Ihrem Anschluss kamen in kurzer Zeit zu viele Anfragen. Bitte warten Sie einen Moment und versuchen Sie es dann noch einmal."}},
	{is(password.ErrBusy), Answer{Status: http.StatusServiceUnavailable, Code: "busy", Heading: "Der Dienst ist gerade ausgelastet",
		Message: "Bitte versuchen Sie es in wenigen Sekunden noch einmal.", RetryAfter: time.Second}},

	// Logins and passwords.
	{is(account.ErrLoginFailed), Answer{Status: http.StatusUnauthorized, Code: "login_failed", Heading: "Anmeldung fehlgeschlagen",
		Message: "Die Anmeldung ist fehlgeschlagen. Bitte prüfen Sie Ihre Versichertennummer und Ihr Passwort."}},
	{as[*account.LockedError](), Answer{Status: http.StatusForbidden, Code: "account_locked", Heading: "Anmeldung vorübergehend gesperrt",
		Message: "Die Anmeldung mit dem Passwort ist nach zu vielen fehlgeschlagenen Versuchen vorübergehend gesperrt. " +
			"Melden Sie sich mit Ihrem verbundenen Smartphone an oder setzen Sie das Passwort zurück."}},
	{is(account.ErrWrongPassword), Answer{Status: http.StatusForbidden, Code: "wrong_password", Heading: "Passwort nicht richtig",
		Message: "Das bisherige Passwort ist nicht richtig."}},
	{as[*account.RefusedError](), Answer{Status: http.StatusUnprocessableEntity, Code: "password_refused", Heading: "Passwort nicht möglich",
		Message: "Dieses Passwort kann nicht verwendet werden. Bitte wählen Sie ein anderes."}},
	{is(account.ErrTooManyChanges), Answer{Status: http.StatusTooManyRequests, Code: "too_many_password_changes",
		Heading: "Heute keine weitere Passwortänderung", RetryAfter: 24 * time.Hour,
		Message: "Ihr Passwort wurde heute schon mehrmals geändert. Aus Sicherheitsgründen ist eine weitere Änderung erst morgen möglich."}},

	// Access without a login.
	{is(access.ErrEIDUnavailable), Answer{Status: http.StatusBadRequest, Code: "eid_unavailable", Heading: "Online-Ausweis nicht verfügbar",
		Message: "Die Identifizierung mit dem Online-Ausweis ist derzeit nicht möglich. Bitte wählen Sie den Weg per Brief."}},
	{is(access.ErrTicket), Answer{Status: http.StatusBadRequest, Code: "identification_expired", Heading: "Die Identifizierung ist abgelaufen",
		Message: "Die Identifizierung mit dem Online-Ausweis gilt 15 Minuten und nur für ein Passwort. Bitte weisen Sie sich erneut aus."}},
	{is(access.ErrEIDNoMatch), Answer{Status: http.StatusForbidden, Code: "eid_no_match", Heading: "Die Identifizierung hat nicht gepasst",
		Message: "Die Daten aus Ihrem Ausweis passen nicht zu den Angaben, die wir zu dieser Versichertennummer haben."}},
	{is(access.ErrOtherPerson), Answer{Status: http.StatusForbidden, Code: "eid_other_person", Heading: "Anderer Ausweis",
		Message: "Der Ausweis gehört nicht zu der Person, die hier angemeldet ist. Es wurde nichts geändert."}},
	{is(access.ErrEIDCancelled), Answer{Status: http.StatusOK, Code: "eid_cancelled", Heading: "Identifizierung abgebrochen",
		Message: "Sie haben die Identifizierung mit dem Online-Ausweis abgebrochen. Es wurde nichts geändert."}},
	{is(access.ErrEIDFailed), Answer{Status: http.StatusBadRequest, Code: "eid_failed", Heading: "Die Identifizierung ist fehlgeschlagen",
		Message: "Die Identifizierung mit dem Online-Ausweis konnte nicht abgeschlossen werden. Bitte beginnen Sie noch einmal."}},
	{is(access.ErrResetFailed), Answer{Status: http.StatusUnauthorized, Code: "reset_failed", Heading: "Zurücksetzen fehlgeschlagen",
		Message: "Das Passwort konnte nicht zurückgesetzt werden. Bitte prüfen Sie Ihre Versichertennummer und den Code aus dem Brief. " +
			"Der Code gilt nur einmal und nur bis zu dem im Brief genannten Datum."}},
	{is(access.ErrLettersToday), Answer{Status: http.StatusServiceUnavailable, Code: "letters_today", Heading: "Heute kein Brief mehr möglich",
		RetryAfter: 12 * time.Hour,
		Message:    "Heute können wir keine weiteren Briefe verschicken. Bitte bestellen Sie den Brief morgen noch einmal oder nutzen Sie den Online-Ausweis."}},
	{is(access.ErrLetterRefused), Answer{Status: http.StatusTooManyRequests, Code: "letter_limit", Heading: "Kein weiterer Brief möglich",
		Message: "Sie haben in den letzten 30 Tagen schon mehrere Briefe erhalten. Bitte nutzen Sie den letzten Brief oder den Online-Ausweis."}},

	// The phone and the Freigabe-PIN. None says which factor failed.
	{as[*device.WrongPINError](), Answer{Status: http.StatusUnauthorized, Code: "authentication_failed", Heading: "Freigabe fehlgeschlagen",
		Message: "Die Freigabe ist fehlgeschlagen. Bitte versuchen Sie es noch einmal."}},
	{is(device.ErrProof), Answer{Status: http.StatusUnauthorized, Code: "authentication_failed", Heading: "Freigabe fehlgeschlagen",
		Message: "Die Freigabe ist fehlgeschlagen. Bitte versuchen Sie es noch einmal."}},
	{is(device.ErrPINLocked), Answer{Status: http.StatusLocked, Code: "pin_locked", Heading: "Freigabe-PIN gesperrt",
		Message: "Ihre Freigabe-PIN ist gesperrt. Sie können sie mit einem neuen Brief oder dem Online-Ausweis entsperren."}},
	{is(device.ErrPINBusy), Answer{Status: http.StatusTooManyRequests, Code: "pin_busy", Heading: "Bitte kurz warten", RetryAfter: time.Second,
		Message: "Gerade laufen schon Anmeldungen mit diesem Gerät. Bitte versuchen Sie es gleich noch einmal."}},
	{is(device.ErrBindRefused), Answer{Status: http.StatusUnauthorized, Code: "bind_refused", Heading: "Gerät nicht verbunden",
		Message: "Das Gerät konnte nicht verbunden werden. Bitte prüfen Sie Versichertennummer, Passwort und QR-Code."}},
	{is(device.ErrTooManyDevices), Answer{Status: http.StatusConflict, Code: "too_many_devices", Heading: "Zu viele Geräte",
		Message: "Sie haben bereits die größte erlaubte Zahl an Geräten verbunden. Bitte trennen Sie zuerst ein Gerät."}},
	{is(device.ErrNotFound), Answer{Status: http.StatusNotFound, Code: "not_found", Heading: "Nicht gefunden",
		Message: "Dieses Gerät gibt es nicht (mehr)."}},

	// The health card (eGK). What is wrong with a card is no secret to
	// the person holding it, so the answers say it.
	{is(device.ErrEGKOff), Answer{Status: http.StatusBadRequest, Code: "egk_unavailable", Heading: "Gesundheitskarte nicht verfügbar",
		Message: "Die Anmeldung mit der Gesundheitskarte ist derzeit nicht möglich. Bitte nutzen Sie den Brief oder den Online-Ausweis."}},
	{as[*egk.RefusedError](), Answer{Status: http.StatusUnprocessableEntity, Code: "card_refused", Heading: "Gesundheitskarte nicht verwendbar",
		Message: "Ihre Gesundheitskarte kann hierfür nicht verwendet werden."}},
	{is(egk.ErrRevocationUnavailable), Answer{Status: http.StatusServiceUnavailable, Code: "card_status_unavailable",
		Heading: "Kartenprüfung gerade nicht möglich", RetryAfter: time.Minute,
		Message: "Ob Ihre Gesundheitskarte gültig ist, kann gerade nicht geprüft werden. Es wurde nichts geändert. Bitte versuchen Sie es in einigen Minuten noch einmal."}},
	{is(device.ErrCardStatement), Answer{Status: http.StatusUnprocessableEntity, Code: "card_statement_mismatch", Heading: "Karte hat etwas anderes bestätigt",
		Message: "Die Gesundheitskarte hat ein anderes Gerät oder eine andere Anfrage bestätigt. Bitte beginnen Sie noch einmal."}},
	{is(device.ErrCardSignature), Answer{Status: http.StatusUnprocessableEntity, Code: "card_signature_invalid", Heading: "Kartensignatur ungültig",
		Message: "Die Signatur der Gesundheitskarte passt nicht zu ihrem Zertifikat. Bitte halten Sie die Karte noch einmal an das Smartphone."}},
	{is(device.ErrCardNotYours), Answer{Status: http.StatusForbidden, Code: "card_not_yours", Heading: "Andere Versichertennummer",
		Message: "Diese Gesundheitskarte gehört zu einer anderen Versichertennummer als Ihr Konto. Bitte nutzen Sie Ihre eigene Karte."}},

	// Approvals (Freigaben).
	{is(approval.ErrNotFound), Answer{Status: http.StatusNotFound, Code: "not_found", Heading: "Nicht gefunden",
		Message: "Diese Anfrage gibt es nicht (mehr)."}},
	{is(approval.ErrNotPending), Answer{Status: http.StatusConflict, Code: "not_pending", Heading: "Schon beantwortet",
		Message: "Diese Freigabe wurde schon beantwortet."}},
	{is(approval.ErrExpired), Answer{Status: http.StatusGone, Code: "expired", Heading: "Abgelaufen",
		Message: "Diese Freigabe ist abgelaufen."}},
	{is(approval.ErrLevelTooLow), Answer{Status: http.StatusForbidden, Code: "level_too_low", Heading: "Anderes Gerät nötig",
		Message: "Für diese Freigabe brauchen Sie ein Gerät, das mit dem Online-Ausweis verbunden wurde."}},
	{is(approval.ErrWrongNumber), Answer{Status: http.StatusConflict, Code: "wrong_number", Heading: "Zahl passt nicht",
		Message: "Die gewählte Zahl passt nicht. Die Anmeldung wurde abgelehnt."}},
	{is(approval.ErrNoDevice), Answer{Status: http.StatusConflict, Code: "no_device", Heading: "Kein Smartphone verbunden",
		Message: "Für diese Aktion brauchen Sie ein Smartphone, das mit Ihrem Konto verbunden ist: Sie bestätigen sie dort in der Service-App mit Ihrer Freigabe-PIN."}},
	{is(approval.ErrDevicesLocked), Answer{Status: http.StatusConflict, Code: "devices_locked", Heading: "Freigabe-PIN gesperrt",
		Message: "Ihre Freigabe-PIN ist auf jedem verbundenen Smartphone gesperrt, deshalb kann nichts freigegeben werden. " +
			"Entsperren Sie sie mit einem neuen Brief oder dem Online-Ausweis; danach geht es hier weiter."}},
	{is(approval.ErrTooManyPending), Answer{Status: http.StatusTooManyRequests, Code: "too_many_pending", Heading: "Zu viele unbestätigte Anfragen",
		RetryAfter: 5 * time.Minute,
		Message:    "Es gibt zu viele Anfragen dieser Art, die nicht in der Service-App bestätigt wurden — bitte warten Sie einige Minuten und versuchen Sie es dann erneut."}},
	{is(approval.ErrSessionLevel), Answer{Status: http.StatusForbidden, Code: "session_level_too_low", Heading: "Anmeldung mit dem Smartphone nötig",
		Message: "Für diese Aktion muss Ihre Anmeldung auf Ihrem Smartphone bestätigt sein. Mit dem Passwort allein ist sie nicht möglich."}},
}

// For returns the answer to err, and false for an error the table does not
// know (an internal failure: log it, answer 500).
func For(err error) (Answer, bool) {
	if err == nil {
		return Answer{}, false
	}
	for _, r := range rows {
		if !r.is(err) {
			continue
		}
		a := r.answer
		var (
			bad     *Bad
			limited *Limited
			invalid *field.Error
		)
		switch {
		case errors.As(err, &bad):
			a.Message = bad.Message
			if bad.Status != 0 {
				a.Status = bad.Status
			}
		case errors.As(err, &limited):
			a.RetryAfter = limited.Wait
		case errors.As(err, &invalid):
			a.Message = invalid.Message
		}
		var refused *egk.RefusedError
		if errors.As(err, &refused) {
			if m, ok := cardMessages[refused.Reason]; ok {
				a.Message = m
			}
		}
		return a, true
	}
	return Answer{}, false
}

// cardMessages say what is wrong with a refused health card.
var cardMessages = map[egk.Reason]string{
	egk.ReasonMalformed:         "Das Zertifikat der Gesundheitskarte konnte nicht gelesen werden.",
	egk.ReasonCurve:             "Das Zertifikat stammt nicht von einer Gesundheitskarte (anderes Schlüsselverfahren).",
	egk.ReasonCriticalExtension: "Das Zertifikat der Gesundheitskarte enthält eine Angabe, die wir nicht prüfen können.",
	egk.ReasonKeyUsage:          "Das Zertifikat ist nicht das Authentisierungszertifikat einer Gesundheitskarte.",
	egk.ReasonNotCard:           "Das Zertifikat ist nicht das Authentisierungszertifikat einer Gesundheitskarte.",
	egk.ReasonUnknownIssuer:     "Diese Gesundheitskarte wurde nicht von Ihrer Krankenkasse ausgegeben.",
	egk.ReasonNotYetValid:       "Ihre Gesundheitskarte ist noch nicht gültig. Bitte versuchen Sie es ab dem Gültigkeitsbeginn noch einmal.",
	egk.ReasonExpired:           "Ihre Gesundheitskarte ist abgelaufen. Bitte nutzen Sie Ihre neue Karte, den Brief oder den Online-Ausweis.",
	egk.ReasonNoKVNR:            "Im Zertifikat der Gesundheitskarte steht keine gültige Versichertennummer.",
	egk.ReasonRevoked:           "Ihre Gesundheitskarte ist gesperrt. Bitte nutzen Sie Ihre neue Karte, den Brief oder den Online-Ausweis.",
	egk.ReasonStatusUnknown:     "Ihre Gesundheitskarte ist unserem Prüfdienst nicht bekannt. Bitte nutzen Sie den Brief oder den Online-Ausweis.",
}

// Internal is the answer to a failure the table does not know.
var Internal = Answer{Status: http.StatusInternalServerError, Code: "internal", Heading: "Ein Fehler ist aufgetreten",
	Message: "Bei der Bearbeitung ist ein Fehler aufgetreten. Bitte versuchen Sie es später noch einmal."}
