package password

import (
	"fmt"
	"strings"
)

// Code names one reason a password is refused.
type Code uint8

// The reasons Check gives, in the order it gives them.
const (
	InvalidUTF8          Code = iota + 1 // the input is not valid UTF-8
	ControlCharacters                    // the password contains control characters (tab, line break, …)
	TooShort                             // fewer runes than Policy.MinLength after normalisation
	TooLong                              // more runes than Policy.MaxLength after normalisation
	Common                               // the password is on the blocklist
	ContainsPersonalData                 // the password contains the person's name, address, birth date or KVNR
	ContainsServiceName                  // the password contains "pforte", "krankenkasse" or the insurer's name
	TooWeak                              // the strength estimate is below Policy.MinScore
)

var codeNames = [...]string{
	InvalidUTF8:          "invalid_utf8",
	ControlCharacters:    "control_characters",
	TooShort:             "too_short",
	TooLong:              "too_long",
	Common:               "common",
	ContainsPersonalData: "contains_personal_data",
	ContainsServiceName:  "contains_service_name",
	TooWeak:              "too_weak",
}

// String returns a stable snake_case name for logs and metrics, such as
// "too_short".
func (c Code) String() string {
	if int(c) < len(codeNames) && codeNames[c] != "" {
		return codeNames[c]
	}
	return fmt.Sprintf("code(%d)", uint8(c))
}

// Reason is one reason a password is refused. Limit is the length limit
// for TooShort and TooLong (so the message can name it) and zero otherwise.
// A Reason never holds the password or a personal datum.
type Reason struct {
	Code  Code
	Limit int
}

// String returns the code's name.
func (r Reason) String() string { return r.Code.String() }

// Message returns one sentence telling the person what is wrong, in English
// when lang is "en" or starts with "en-" or "en_" (case-insensitive), and
// in German otherwise. It never contains the password or a personal datum.
func (r Reason) Message(lang string) string {
	en := isEnglish(lang)
	switch r.Code {
	case InvalidUTF8:
		if en {
			return "The password contains characters that could not be read. Please enter it again."
		}
		return "Das Passwort enthält Zeichen, die nicht gelesen werden konnten. Bitte geben Sie es erneut ein."
	case ControlCharacters:
		if en {
			return "The password must not contain control characters such as tabs or line breaks."
		}
		return "Das Passwort darf keine Steuerzeichen wie Tabulatoren oder Zeilenumbrüche enthalten."
	case TooShort:
		if en {
			return fmt.Sprintf("The password must be at least %d characters long.", r.Limit)
		}
		return fmt.Sprintf("Das Passwort muss mindestens %d Zeichen lang sein.", r.Limit)
	case TooLong:
		if en {
			return fmt.Sprintf("The password must be at most %d characters long.", r.Limit)
		}
		return fmt.Sprintf("Das Passwort darf höchstens %d Zeichen lang sein.", r.Limit)
	case Common:
		if en {
			return "The password is on a list of commonly used passwords."
		}
		return "Das Passwort steht auf einer Liste häufig verwendeter Passwörter."
	case ContainsPersonalData:
		if en {
			return "The password must not contain your name, your address, your date of birth or your health insurance number."
		}
		return "Das Passwort darf Ihren Namen, Ihre Anschrift, Ihr Geburtsdatum oder Ihre Versichertennummer nicht enthalten."
	case ContainsServiceName:
		if en {
			return "The password must not contain the name of your health insurer or of this service."
		}
		return "Das Passwort darf nicht den Namen Ihrer Krankenkasse oder dieses Dienstes enthalten."
	case TooWeak:
		if en {
			return "The password is too easy to guess. A longer password of several words is harder to guess."
		}
		return "Das Passwort ist zu leicht zu erraten. Ein längeres Passwort aus mehreren Wörtern ist schwerer zu erraten."
	}
	if en {
		return "The password cannot be used."
	}
	return "Das Passwort kann nicht verwendet werden."
}

// isEnglish reports whether lang names English ("en", "en-GB", "EN_us").
func isEnglish(lang string) bool {
	lang = strings.ToLower(lang)
	return lang == "en" || strings.HasPrefix(lang, "en-") || strings.HasPrefix(lang, "en_")
}
