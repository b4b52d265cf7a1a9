package oidc

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode"
)

// What the phone shows of authorization_details reads as German, not as
// machine output: a known type becomes a sentence ("Zahlung über 42,00 € an
// Apotheke am Markt"), and every member the sentence does not use follows
// as a line in plain words ("Fällig am: 2026-12-01"), so that nothing the
// person approves is hidden. What cannot be read safely (an amount that is
// not a plain decimal) is never turned into a sentence: it is listed as it
// came.

// fieldWords name members in German. Members not listed are split into
// words ("dueDate", "due_date" → "Due date").
var fieldWords = map[string]string{
	"amount":                            "Betrag",
	"currency":                          "Währung",
	"creditor":                          "Empfänger",
	"creditorName":                      "Empfänger",
	"creditorAccount":                   "Konto des Empfängers",
	"iban":                              "IBAN",
	"bic":                               "BIC",
	"purpose":                           "Verwendungszweck",
	"remittanceInformationUnstructured": "Verwendungszweck",
	"reference":                         "Referenz",
	"date":                              "Datum",
	"dueDate":                           "Fällig am",
	"due_date":                          "Fällig am",
	"claim":                             "Leistung",
	"application":                       "Antrag",
	"title":                             "Titel",
	"name":                              "Name",
	"description":                       "Beschreibung",
	"instructedAmount":                  "Betrag",
	"locations":                         "Orte",
	"actions":                           "Aktionen",
	"identifier":                        "Kennung",
	"privileges":                        "Rechte",
}

// fieldWord names a member for people.
func fieldWord(k string) string {
	if w, ok := fieldWords[k]; ok {
		return w
	}
	var b strings.Builder
	prevLower := false
	for _, r := range k {
		switch {
		case r == '_' || r == '-' || r == '.':
			b.WriteRune(' ')
			prevLower = false
			continue
		case unicode.IsUpper(r) && prevLower:
			b.WriteRune(' ')
		}
		b.WriteRune(unicode.ToLower(r))
		prevLower = unicode.IsLower(r) || unicode.IsDigit(r)
	}
	w := strings.Join(strings.Fields(b.String()), " ")
	if w == "" {
		return k
	}
	first := []rune(w)
	first[0] = unicode.ToUpper(first[0])
	return string(first)
}

// plainAmount is an amount the phone may turn into a sentence: at most 12
// digits, optionally 1 or 2 decimals.
var plainAmount = regexp.MustCompile(`^(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?$`)

// germanAmount writes "1234.5" as "1.234,50". ok is false for anything but a
// plain decimal.
func germanAmount(v any) (string, bool) {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case json.Number:
		s = x.String()
	default:
		return "", false
	}
	if !plainAmount.MatchString(s) {
		return "", false
	}
	whole, frac, _ := strings.Cut(s, ".")
	frac = (frac + "00")[:2]
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(r)
	}
	return b.String() + "," + frac, true
}

// money is "42,00 €" for EUR, "42,00 USD" for another three-letter code.
func money(amount string, currency any) (string, bool) {
	c, _ := currency.(string)
	switch {
	case currency == nil || c == "EUR":
		return amount + " €", true
	case len(c) == 3 && strings.ToUpper(c) == c && strings.IndexFunc(c, func(r rune) bool { return r < 'A' || r > 'Z' }) < 0:
		return amount + " " + c, true
	}
	return "", false
}

// groupIBAN writes an IBAN in groups of four, as it is printed.
func groupIBAN(s string) string {
	compact := strings.ReplaceAll(s, " ", "")
	if len(compact) < 15 || len(compact) > 34 {
		return s
	}
	var b strings.Builder
	for i, r := range compact {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// detail is one authorization_details object while it is being shown: the
// members a sentence used are taken out; the rest are listed.
type detail map[string]any

// take removes and returns the first of the members that is present.
func (d detail) take(names ...string) (any, bool) {
	for _, n := range names {
		if v, ok := d[n]; ok {
			delete(d, n)
			return v, true
		}
	}
	return nil, false
}

// str is a member's value if it is a non-empty string; the member is then
// taken out.
func (d detail) str(names ...string) string {
	for _, n := range names {
		if s, ok := d[n].(string); ok && strings.TrimSpace(s) != "" {
			delete(d, n)
			return s
		}
	}
	return ""
}

// printable reports whether every member name and string in v, at any
// depth, can be shown as it is (no control or format characters, no empty
// names): checked before anything is rendered.
func printable(v any) bool {
	switch x := v.(type) {
	case string:
		return !strings.ContainsFunc(x, isControl)
	case map[string]any:
		for k, m := range x {
			if k == "" || strings.ContainsFunc(k, isControl) || !printable(m) {
				return false
			}
		}
	case []any:
		for _, m := range x {
			if !printable(m) {
				return false
			}
		}
	}
	return true
}

// showDetail renders one object for the phone (its type already checked):
// a heading sentence and the remaining members, one per line.
func showDetail(typ string, d detail) (string, error) {
	if !printable(map[string]any(d)) {
		return "", fmt.Errorf("control characters or empty names")
	}
	var head string
	var lines []string
	switch typ {
	case "payment_initiation":
		head = paymentSentence(d, &lines)
	case "application_submission", "claim_submission":
		what := d.str("application", "claim", "title", "name")
		if what != "" {
			head = "Antrag einreichen: „" + what + "“"
		} else {
			head = "Antrag einreichen"
		}
	default:
		head = "Anfrage der Art „" + fieldWord(typ) + "“"
	}
	rest, err := listMembers(d, "")
	if err != nil {
		return "", err
	}
	lines = append(lines, rest...)
	out := "\n" + head
	for _, l := range lines {
		out += "\n  " + l
	}
	return out, nil
}

// paymentSentence is "Zahlung über 42,00 € an Apotheke am Markt", with the
// account and the purpose on lines of their own. Only what reads safely
// becomes part of the sentence; the rest stays for listMembers.
func paymentSentence(d detail, lines *[]string) string {
	head := "Zahlung"
	// The amount: "amount" with "currency", or RFC 9396's instructedAmount.
	if inst, ok := d["instructedAmount"].(map[string]any); ok && len(inst) <= 2 {
		if a, ok := germanAmount(inst["amount"]); ok {
			if m, ok := money(a, inst["currency"]); ok {
				head += " über " + m
				delete(d, "instructedAmount")
			}
		}
	} else if a, ok := germanAmount(d["amount"]); ok {
		if m, ok := money(a, d["currency"]); ok {
			head += " über " + m
			d.take("amount")
			d.take("currency")
		}
	}
	if to := d.str("creditor", "creditorName"); to != "" {
		head += " an " + to
	}
	if acct, ok := d["creditorAccount"].(map[string]any); ok && len(acct) == 1 {
		if iban, ok := acct["iban"].(string); ok && iban != "" {
			*lines = append(*lines, "IBAN: "+groupIBAN(iban))
			delete(d, "creditorAccount")
		}
	}
	if iban := d.str("iban"); iban != "" {
		*lines = append(*lines, "IBAN: "+groupIBAN(iban))
	}
	if purpose := d.str("purpose", "remittanceInformationUnstructured"); purpose != "" {
		*lines = append(*lines, "Verwendungszweck: "+purpose)
	}
	return head
}

// listMembers lists the members left, sorted, in plain words; nested
// objects as "Name – Teil: Wert", lists item by item.
func listMembers(d map[string]any, prefix string) ([]string, error) {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var lines []string
	for _, k := range keys {
		if k == "" || strings.ContainsFunc(k, isControl) {
			return nil, fmt.Errorf("empty or unprintable member name")
		}
		name := prefix + fieldWord(k)
		more, err := listValue(name, d[k])
		if err != nil {
			return nil, err
		}
		lines = append(lines, more...)
	}
	return lines, nil
}

// listValue renders one value under name.
func listValue(name string, v any) ([]string, error) {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			return []string{name + ": (leer)"}, nil
		}
		return listMembers(x, name+" – ")
	case []any:
		if len(x) == 0 {
			return []string{name + ": (keine)"}, nil
		}
		var lines []string
		for i, item := range x {
			more, err := listValue(fmt.Sprintf("%s %d", name, i+1), item)
			if err != nil {
				return nil, err
			}
			lines = append(lines, more...)
		}
		return lines, nil
	}
	s, err := showValue(v)
	if err != nil {
		return nil, err
	}
	return []string{name + ": " + s}, nil
}
