// Package answer is the one table of what a person is told when a request
// does not go through: for every outcome of the domain packages (a wrong
// password, a locked PIN, an expired approval, input of the wrong shape …)
// the HTTP status, the API's stable error code, and the heading and message
// in every language of the catalogue (package lang, keys answer.<code>.*):
// German for the API, the person's language on the portal's pages
// (Answer.In). The portal (package web) and the JSON API (package appapi)
// both answer from it, so the same failure reads the same on every surface and
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
	"github.com/pforte/pforte/internal/email"
	"github.com/pforte/pforte/internal/family"
	"github.com/pforte/pforte/internal/field"
	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/password"
	"github.com/pforte/pforte/internal/session"
)

// Answer is what a person is told about one outcome.
type Answer struct {
	// Status is the HTTP status.
	Status int
	// Code is the API's stable error code ("pin_locked").
	Code string
	// Heading is the portal page's heading, in German.
	Heading string
	// Message is the German text: what happened, and what to do.
	Message string
	// RetryAfter, when positive, is sent as Retry-After.
	RetryAfter time.Duration

	// heading and message are Heading and Message in every language.
	heading, message lang.Text
}

// In returns the heading and the message in l. An answer whose message
// came as plain German text (a field.Error or Bad without a Text) keeps
// that text.
func (a Answer) In(l lang.Language) (heading, message string) {
	heading, message = a.Heading, a.Message
	if !a.heading.IsZero() {
		heading = a.heading.In(l)
	}
	if !a.message.IsZero() {
		message = a.message.In(l)
	}
	return heading, message
}

// german fills Heading and Message from the texts.
func (a Answer) german() Answer {
	a.Heading, a.Message = a.heading.In(lang.German), a.message.In(lang.German)
	return a
}

// Bad is a request that cannot be read (not UTF-8, not JSON, too long, a
// field missing); Message says what is wrong, in German, and Text, when
// set, in every language.
type Bad struct {
	// Status is 400 (the default) or 413 (too large).
	Status  int
	Message string
	Text    lang.Text
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
	{as[*field.Error](), Answer{Status: http.StatusBadRequest, Code: "invalid_field", heading: lang.Key("answer.invalid_field.heading"),
		message: lang.Key("answer.invalid_field.message")}},
	{as[*Bad](), Answer{Status: http.StatusBadRequest, Code: "bad_request", heading: lang.Key("answer.bad_request.heading"),
		message: lang.Key("answer.bad_request.message")}},
	{as[*Limited](), Answer{Status: http.StatusTooManyRequests, Code: "rate_limited", heading: lang.Key("answer.rate_limited.heading"),
		message: lang.Key("answer.rate_limited.message")}},
	{is(password.ErrBusy), Answer{Status: http.StatusServiceUnavailable, Code: "busy", heading: lang.Key("answer.busy.heading"),
		message: lang.Key("answer.busy.message"), RetryAfter: time.Second}},

	// Logins and passwords.
	{is(account.ErrLoginFailed), Answer{Status: http.StatusUnauthorized, Code: "login_failed", heading: lang.Key("answer.login_failed.heading"),
		message: lang.Key("answer.login_failed.message")}},
	{as[*account.LockedError](), Answer{Status: http.StatusForbidden, Code: "account_locked", heading: lang.Key("answer.account_locked.heading"),
		message: lang.Key("answer.account_locked.message")}},
	{is(account.ErrWrongPassword), Answer{Status: http.StatusForbidden, Code: "wrong_password", heading: lang.Key("answer.wrong_password.heading"),
		message: lang.Key("answer.wrong_password.message")}},
	{as[*account.RefusedError](), Answer{Status: http.StatusUnprocessableEntity, Code: "password_refused", heading: lang.Key("answer.password_refused.heading"),
		message: lang.Key("answer.password_refused.message")}},
	// Only after a proof of who is asking (the right password, the phone,
	// the eID, a letter's code): staff locked the person's access.
	{is(session.ErrPersonLocked), Answer{Status: http.StatusForbidden, Code: "access_locked", heading: lang.Key("answer.access_locked.heading"),
		message: lang.Key("answer.access_locked.message")}},
	{is(account.ErrTooManyChanges), Answer{Status: http.StatusTooManyRequests, Code: "too_many_password_changes",
		heading: lang.Key("answer.too_many_password_changes.heading"), RetryAfter: 24 * time.Hour,
		message: lang.Key("answer.too_many_password_changes.message")}},

	// Access without a login.
	{is(access.ErrEIDUnavailable), Answer{Status: http.StatusBadRequest, Code: "eid_unavailable", heading: lang.Key("answer.eid_unavailable.heading"),
		message: lang.Key("answer.eid_unavailable.message")}},
	{is(access.ErrTicket), Answer{Status: http.StatusBadRequest, Code: "identification_expired", heading: lang.Key("answer.identification_expired.heading"),
		message: lang.Key("answer.identification_expired.message")}},
	{is(access.ErrEIDNoMatch), Answer{Status: http.StatusForbidden, Code: "eid_no_match", heading: lang.Key("answer.eid_no_match.heading"),
		message: lang.Key("answer.eid_no_match.message")}},
	{is(access.ErrOtherPerson), Answer{Status: http.StatusForbidden, Code: "eid_other_person", heading: lang.Key("answer.eid_other_person.heading"),
		message: lang.Key("answer.eid_other_person.message")}},
	{is(access.ErrEIDCancelled), Answer{Status: http.StatusOK, Code: "eid_cancelled", heading: lang.Key("answer.eid_cancelled.heading"),
		message: lang.Key("answer.eid_cancelled.message")}},
	{is(access.ErrEIDFailed), Answer{Status: http.StatusBadRequest, Code: "eid_failed", heading: lang.Key("answer.eid_failed.heading"),
		message: lang.Key("answer.eid_failed.message")}},
	{is(access.ErrResetFailed), Answer{Status: http.StatusUnauthorized, Code: "reset_failed", heading: lang.Key("answer.reset_failed.heading"),
		message: lang.Key("answer.reset_failed.message")}},
	{is(access.ErrLettersToday), Answer{Status: http.StatusServiceUnavailable, Code: "letters_today", heading: lang.Key("answer.letters_today.heading"),
		RetryAfter: 12 * time.Hour,
		message:    lang.Key("answer.letters_today.message")}},
	{is(access.ErrIntakeFull), Answer{Status: http.StatusServiceUnavailable, Code: "requests_waiting", heading: lang.Key("answer.requests_waiting.heading"),
		RetryAfter: 5 * time.Minute,
		message:    lang.Key("answer.requests_waiting.message")}},
	{is(access.ErrLetterRefused), Answer{Status: http.StatusTooManyRequests, Code: "letter_limit", heading: lang.Key("answer.letter_limit.heading"),
		message: lang.Key("answer.letter_limit.message")}},

	// The phone and the Freigabe-PIN. None says which factor failed.
	{as[*device.WrongPINError](), Answer{Status: http.StatusUnauthorized, Code: "authentication_failed", heading: lang.Key("answer.authentication_failed.heading"),
		message: lang.Key("answer.authentication_failed.message")}},
	{is(device.ErrProof), Answer{Status: http.StatusUnauthorized, Code: "authentication_failed", heading: lang.Key("answer.authentication_failed.heading"),
		message: lang.Key("answer.authentication_failed.message")}},
	{is(device.ErrPINLocked), Answer{Status: http.StatusLocked, Code: "pin_locked", heading: lang.Key("answer.pin_locked.heading"),
		message: lang.Key("answer.pin_locked.message")}},
	{is(device.ErrBindRefused), Answer{Status: http.StatusUnauthorized, Code: "bind_refused", heading: lang.Key("answer.bind_refused.heading"),
		message: lang.Key("answer.bind_refused.message")}},
	{is(device.ErrTooManyDevices), Answer{Status: http.StatusConflict, Code: "too_many_devices", heading: lang.Key("answer.too_many_devices.heading"),
		message: lang.Key("answer.too_many_devices.message")}},
	{is(device.ErrNotFound), Answer{Status: http.StatusNotFound, Code: "not_found", heading: lang.Key("answer.device_not_found.heading"),
		message: lang.Key("answer.device_not_found.message")}},

	// The health card (eGK). What is wrong with a card is no secret to
	// the person holding it, so the answers say it.
	{is(device.ErrEGKOff), Answer{Status: http.StatusBadRequest, Code: "egk_unavailable", heading: lang.Key("answer.egk_unavailable.heading"),
		message: lang.Key("answer.egk_unavailable.message")}},
	{as[*egk.RefusedError](), Answer{Status: http.StatusUnprocessableEntity, Code: "card_refused", heading: lang.Key("answer.card_refused.heading"),
		message: lang.Key("answer.card_refused.message")}},
	{is(egk.ErrRevocationUnavailable), Answer{Status: http.StatusServiceUnavailable, Code: "card_status_unavailable",
		heading: lang.Key("answer.card_status_unavailable.heading"), RetryAfter: time.Minute,
		message: lang.Key("answer.card_status_unavailable.message")}},
	{is(device.ErrCardStatement), Answer{Status: http.StatusUnprocessableEntity, Code: "card_statement_mismatch", heading: lang.Key("answer.card_statement_mismatch.heading"),
		message: lang.Key("answer.card_statement_mismatch.message")}},
	{is(device.ErrCardSignature), Answer{Status: http.StatusUnprocessableEntity, Code: "card_signature_invalid", heading: lang.Key("answer.card_signature_invalid.heading"),
		message: lang.Key("answer.card_signature_invalid.message")}},
	{is(device.ErrCardNotYours), Answer{Status: http.StatusForbidden, Code: "card_not_yours", heading: lang.Key("answer.card_not_yours.heading"),
		message: lang.Key("answer.card_not_yours.message")}},

	// Approvals (Freigaben).
	{is(approval.ErrNotFound), Answer{Status: http.StatusNotFound, Code: "not_found", heading: lang.Key("answer.approval_not_found.heading"),
		message: lang.Key("answer.approval_not_found.message")}},
	{is(approval.ErrNotPending), Answer{Status: http.StatusConflict, Code: "not_pending", heading: lang.Key("answer.not_pending.heading"),
		message: lang.Key("answer.not_pending.message")}},
	{is(approval.ErrExpired), Answer{Status: http.StatusGone, Code: "expired", heading: lang.Key("answer.expired.heading"),
		message: lang.Key("answer.expired.message")}},
	{is(approval.ErrLevelTooLow), Answer{Status: http.StatusForbidden, Code: "level_too_low", heading: lang.Key("answer.level_too_low.heading"),
		message: lang.Key("answer.level_too_low.message")}},
	{is(approval.ErrWrongNumber), Answer{Status: http.StatusConflict, Code: "wrong_number", heading: lang.Key("answer.wrong_number.heading"),
		message: lang.Key("answer.wrong_number.message")}},
	{is(approval.ErrNoDevice), Answer{Status: http.StatusConflict, Code: "no_device", heading: lang.Key("answer.no_device.heading"),
		message: lang.Key("answer.no_device.message")}},
	{is(approval.ErrDevicesLocked), Answer{Status: http.StatusConflict, Code: "devices_locked", heading: lang.Key("answer.devices_locked.heading"),
		message: lang.Key("answer.devices_locked.message")}},
	{is(approval.ErrTooManyPending), Answer{Status: http.StatusTooManyRequests, Code: "too_many_pending", heading: lang.Key("answer.too_many_pending.heading"),
		RetryAfter: 5 * time.Minute,
		message:    lang.Key("answer.too_many_pending.message")}},
	{is(approval.ErrSessionLevel), Answer{Status: http.StatusForbidden, Code: "session_level_too_low", heading: lang.Key("answer.session_level_too_low.heading"),
		message: lang.Key("answer.session_level_too_low.message")}},

	// The e-mail address and its links. A link used twice and an unknown
	// one read the same.
	{is(email.ErrLinkInvalid), Answer{Status: http.StatusNotFound, Code: "email_link_invalid", heading: lang.Key("answer.email_link_invalid.heading"),
		message: lang.Key("answer.email_link_invalid.message")}},
	{is(email.ErrLinkExpired), Answer{Status: http.StatusGone, Code: "email_link_expired", heading: lang.Key("answer.email_link_expired.heading"),
		message: lang.Key("answer.email_link_expired.message")}},
	{is(email.ErrNeedsApproval), Answer{Status: http.StatusConflict, Code: "email_approval_required", heading: lang.Key("answer.email_approval_required.heading"),
		message: lang.Key("answer.email_approval_required.message")}},
	{is(email.ErrNothing), Answer{Status: http.StatusConflict, Code: "email_none", heading: lang.Key("answer.email_none.heading"),
		message: lang.Key("answer.email_none.message")}},
	{is(email.ErrTooManyLinks), Answer{Status: http.StatusTooManyRequests, Code: "email_too_many_links", heading: lang.Key("answer.email_too_many_links.heading"),
		RetryAfter: 24 * time.Hour, message: lang.Key("answer.email_too_many_links.message")}},
	{is(email.ErrLevel), Answer{Status: http.StatusForbidden, Code: "session_level_too_low", heading: lang.Key("answer.session_level_too_low.heading"),
		message: lang.Key("answer.session_level_too_low.message")}},
	// Acting for another person (package family). Not linked and unknown
	// look the same.
	{is(family.ErrNotLinked), Answer{Status: http.StatusNotFound, Code: "not_represented", heading: lang.Key("answer.not_represented.heading"),
		message: lang.Key("answer.not_represented.message")}},
	{is(family.ErrTurned15), Answer{Status: http.StatusForbidden, Code: "representation_turned_15",
		heading: lang.Key("answer.representation_turned_15.heading"), message: lang.Key("answer.representation_turned_15.message")}},
	{is(family.ErrEnded), Answer{Status: http.StatusForbidden, Code: "representation_ended",
		heading: lang.Key("answer.representation_ended.heading"), message: lang.Key("answer.representation_ended.message")}},
	{is(family.ErrOutOfScope), Answer{Status: http.StatusForbidden, Code: "representation_scope",
		heading: lang.Key("answer.representation_scope.heading"), message: lang.Key("answer.representation_scope.message")}},
	{is(family.ErrUnknownAction), Answer{Status: http.StatusBadRequest, Code: "bad_request", heading: lang.Key("answer.bad_request.heading"),
		message: lang.Key("answer.bad_request.message")}},
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
		a := r.answer.german()
		var (
			bad     *Bad
			limited *Limited
			invalid *field.Error
		)
		switch {
		case errors.As(err, &bad):
			a.Message, a.message = bad.Message, bad.Text
			if bad.Status != 0 {
				a.Status = bad.Status
			}
		case errors.As(err, &limited):
			a.RetryAfter = limited.Wait
		case errors.As(err, &invalid):
			a.Message, a.message = invalid.Message, invalid.Text
		}
		var refused *egk.RefusedError
		if errors.As(err, &refused) {
			if m, ok := cardMessages[refused.Reason]; ok {
				a.Message, a.message = m.In(lang.German), m
			}
		}
		return a, true
	}
	return Answer{}, false
}

// cardMessages say what is wrong with a refused health card.
var cardMessages = map[egk.Reason]lang.Text{
	egk.ReasonMalformed:         lang.Key("answer.card.malformed"),
	egk.ReasonCurve:             lang.Key("answer.card.curve"),
	egk.ReasonCriticalExtension: lang.Key("answer.card.critical_extension"),
	egk.ReasonKeyUsage:          lang.Key("answer.card.key_usage"),
	egk.ReasonNotCard:           lang.Key("answer.card.not_card"),
	egk.ReasonUnknownIssuer:     lang.Key("answer.card.unknown_issuer"),
	egk.ReasonNotYetValid:       lang.Key("answer.card.not_yet_valid"),
	egk.ReasonExpired:           lang.Key("answer.card.expired"),
	egk.ReasonNoKVNR:            lang.Key("answer.card.no_k_v_n_r"),
	egk.ReasonRevoked:           lang.Key("answer.card.revoked"),
	egk.ReasonStatusUnknown:     lang.Key("answer.card.status_unknown"),
}

// Internal is the answer to a failure the table does not know.
var Internal = Answer{Status: http.StatusInternalServerError, Code: "internal", heading: lang.Key("answer.internal.heading"),
	message: lang.Key("answer.internal.message")}.german()
