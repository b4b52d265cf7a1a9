// Package lang holds how Pforte speaks to persons: the languages it speaks
// (German and English), one message catalogue per language, and German local
// time and euro amounts for every date, time and amount a person reads
// (letters, pages, notices, the command line), in the words of their
// language.
//
// It does not own where a person's choice is stored (store.Account.Language),
// which text a letter or page shows (packages letter and web hold the keys),
// or what a page does with the request's language.
//
// # Which language
//
// A person's own choice wins; otherwise the language of the request that
// caused what they read (a page in English, a browser's Accept-Language);
// otherwise German:
//
//	lang.Choose(account.Language, lang.Negotiate(r.Header.Get("Accept-Language")))
//
// The zero Language, and any value Parse would not return, speak German.
//
// # The catalogues
//
// Every text lives in catalog/<language>.json, a flat JSON object of keys and
// texts, one file per language, embedded in the binary and loaded into a
// golang.org/x/text catalogue:
//
//	{"letter.password.subject": "Ihre Zugangsdaten für das Online-Portal und die Service-App"}
//
// Keys are dotted identifiers: the first part names who uses the text
// ("letter", "web", "time"), the rest what it is. Texts are plain text (never
// markup) and take their arguments as printf verbs: %s, %d, or %[2]s when a
// language needs them in another order. The language's printer formats them,
// so %d prints numbers as the language groups them ("1.000" in German): give
// years and other codes as strings. A key a catalogue lacks prints as
// ⟦key⟧, never as nothing.
//
// The tests hold the catalogues together: both files have the same keys, each
// key takes the same verbs in both, no text is empty, every key the code
// names exists, and every key is used. They find the keys by reading the
// source: .T("key", …) and lang.Key("key", …) in Go, t "key" in templates. So
// name keys as string literals. lang.Key makes a Text for a reader not known
// where it is made (a domain package's field error, a failure answer); the
// code that shows it prints it with Text.In. A key built at run time cannot be checked: the place that builds
// it goes into the test's dynamicOK and the keys into its unusedOK, each
// with its reason (catalog_test.go).
//
// # Pages
//
// Templates get the catalogue through Funcs: parse each set of templates once
// per language, at start, with that language's functions, and render a
// request with the set of its language:
//
//	sets := map[lang.Language]*template.Template{}
//	for _, l := range lang.All() {
//		sets[l] = template.Must(template.New("").Funcs(l.Funcs()).ParseFS(files, "templates/*.html"))
//	}
//
//	<html lang="{{lang}}">
//	<h1>{{t "web.login.title"}}</h1>
//	<p>{{t "web.letter.sent" (date .Sent)}}</p>  <p>{{euro .Cents}}</p>
//
// t takes the key as a literal and the text's arguments after it; date,
// datetime, short and euro format as the methods of the same names do; lang
// is the language's code for the lang attribute. html/template escapes what
// they return like any other value.
//
// # Time
//
// Every time a person reads is German local time, Europe/Berlin with its
// daylight saving, from the zone database embedded in the binary (a
// container without one prints the same). Times are stored and compared in
// UTC; only what is shown is local. English texts that show a time say that
// it is German time where a reader abroad could take it for theirs (letters
// do).
package lang

import (
	"strings"

	"golang.org/x/text/language"
)

// Language is a language Pforte speaks, by its ISO 639-1 code. The zero
// value speaks German.
type Language string

// The languages, German first: it is the default.
const (
	German  Language = "de"
	English Language = "en"
)

// all are the languages with their tags, German first.
var all = []struct {
	l   Language
	tag language.Tag
}{
	{German, language.German},
	{English, language.English},
}

// All returns every language Pforte speaks, German first.
func All() []Language {
	out := make([]Language, len(all))
	for i, a := range all {
		out[i] = a.l
	}
	return out
}

// Valid reports whether l is one of All.
func (l Language) Valid() bool {
	for _, a := range all {
		if a.l == l {
			return true
		}
	}
	return false
}

// or returns l if it is valid and fallback otherwise.
func (l Language) or(fallback Language) Language {
	if l.Valid() {
		return l
	}
	return fallback
}

// Tag returns the language's BCP 47 tag (German for the zero Language).
func (l Language) Tag() language.Tag {
	l = l.or(German)
	for _, a := range all {
		if a.l == l {
			return a.tag
		}
	}
	return language.German
}

// maxTagLen bounds what Parse reads: no language tag Pforte accepts is
// longer.
const maxTagLen = 35

// Parse reads a language code or tag as stored or typed: "de", "EN", "en-GB"
// and "de_AT" are German or English by their base language. Anything else,
// the empty string included, is not a language Pforte speaks (false).
func Parse(s string) (Language, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > maxTagLen {
		return "", false
	}
	tag, err := language.Parse(strings.ReplaceAll(s, "_", "-"))
	if err != nil {
		return "", false
	}
	base, conf := tag.Base()
	if conf != language.Exact {
		return "", false
	}
	for _, a := range all {
		if b, _ := a.tag.Base(); b == base {
			return a.l, true
		}
	}
	return "", false
}

// maxAcceptLanguage bounds the part of an Accept-Language header Negotiate
// reads; the entries after it count for nothing.
const maxAcceptLanguage = 512

// matcher matches a browser's wishes against the languages, German first.
var matcher = language.NewMatcher(func() []language.Tag {
	tags := make([]language.Tag, len(all))
	for i, a := range all {
		tags[i] = a.tag
	}
	return tags
}())

// Negotiate picks the language an Accept-Language header asks for: the
// header's most wanted language Pforte speaks ("fr, en;q=0.5" is English),
// German when it names none of them, is empty or malformed.
func Negotiate(acceptLanguage string) Language {
	h := acceptLanguage
	if len(h) > maxAcceptLanguage {
		h = h[:maxAcceptLanguage]
		if i := strings.LastIndexByte(h, ','); i >= 0 {
			h = h[:i]
		}
	}
	tags, _, err := language.ParseAcceptLanguage(h)
	if err != nil || len(tags) == 0 {
		return German
	}
	_, i, conf := matcher.Match(tags...)
	if conf == language.No || i < 0 || i >= len(all) {
		return German
	}
	return all[i].l
}

// Choose is the language a person reads: their own choice (as stored, e.g.
// store.Account.Language) when it is a language Pforte speaks, otherwise
// requested (the language of the request that caused the text) when valid,
// otherwise German.
func Choose(choice string, requested Language) Language {
	if l, ok := Parse(choice); ok {
		return l
	}
	return requested.or(German)
}
