package oidc

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestDetailsReadAsGerman: known types become sentences, amounts German
// money, IBANs printed groups, other members plain words; never key: value
// machine output.
func TestDetailsReadAsGerman(t *testing.T) {
	allowed := []string{"payment_initiation", "application_submission", "claim_submission", "urn:kasse:bonus"}
	tests := []struct{ raw, want string }{
		{`[{"type":"payment_initiation","amount":"42.00","currency":"EUR","creditor":"Apotheke am Markt"}]`,
			"\nZahlung über 42,00 € an Apotheke am Markt"},
		{`[{"type":"payment_initiation","instructedAmount":{"currency":"EUR","amount":"1234567.5"},"creditorName":"Sanitätshaus Weiß",` +
			`"creditorAccount":{"iban":"DE02120300000000202051"},"remittanceInformationUnstructured":"Rechnung 4711"}]`,
			"\nZahlung über 1.234.567,50 € an Sanitätshaus Weiß\n  IBAN: DE02 1203 0000 0000 2020 51\n  Verwendungszweck: Rechnung 4711"},
		{`[{"type":"payment_initiation","amount":12,"currency":"CHF","creditor":"Apotheke"}]`,
			"\nZahlung über 12,00 CHF an Apotheke"},
		// Not a plain amount: no sentence claims one; the value is listed.
		{`[{"type":"payment_initiation","amount":"1e3","creditor":"Apotheke"}]`,
			"\nZahlung an Apotheke\n  Betrag: 1e3"},
		{`[{"type":"payment_initiation","amount":"10.00","currency":"eur"}]`,
			"\nZahlung\n  Betrag: 10.00\n  Währung: eur"},
		{`[{"type":"application_submission","application":"Kostenübernahme Zahnersatz","dueDate":"2026-12-01"}]`,
			"\nAntrag einreichen: „Kostenübernahme Zahnersatz“\n  Fällig am: 2026-12-01"},
		{`[{"type":"claim_submission","claim":"Zahnreinigung","invoice_number":"R-17","items":[{"code":"A1"},{"code":"B2"}]}]`,
			"\nAntrag einreichen: „Zahnreinigung“\n  Invoice number: R-17\n  Items 1 – Code: A1\n  Items 2 – Code: B2"},
		{`[{"type":"urn:kasse:bonus","points":100,"confirmed":false,"note":null}]`,
			"\nAnfrage der Art „Urn:kasse:bonus“\n  Confirmed: nein\n  Note: (leer)\n  Points: 100"},
	}
	for _, tt := range tests {
		_, shown, err := parseDetails(tt.raw, allowed)
		if err != nil {
			t.Errorf("parseDetails(%s): %v", tt.raw, err)
			continue
		}
		if shown != tt.want {
			t.Errorf("parseDetails(%s) shows\n%q\nwant\n%q", tt.raw, shown, tt.want)
		}
		if strings.Contains(shown, "_") && !strings.Contains(tt.raw, `"invoice_number"`) || strings.Contains(shown, "{") {
			t.Errorf("machine output in %q", shown)
		}
	}
}

// TestDetailsHideNothing: every string and number the client sent appears
// on the phone (a sentence formats amounts, so those are checked in their
// German form), and every member is named.
func TestDetailsHideNothing(t *testing.T) {
	allowed := []string{"payment_initiation", "x"}
	for _, raw := range []string{
		`[{"type":"payment_initiation","amount":"5.5","creditor":"A","extra":"B","nested":{"deep":["C",7]}},{"type":"x","y":"D"}]`,
		`[{"type":"payment_initiation","instructedAmount":{"amount":"3","currency":"EUR","extra":"E"},"creditorAccount":{"iban":"DE02120300000000202051","bic":"F"}}]`,
	} {
		_, shown, err := parseDetails(raw, allowed)
		if err != nil {
			t.Fatal(err)
		}
		var list []any
		if err := json.Unmarshal([]byte(raw), &list); err != nil {
			t.Fatal(err)
		}
		// Members a sentence says in its own words.
		sentence := map[string]bool{"type": true, "amount": true, "currency": true, "creditor": true, "instructedAmount": true,
			"creditorAccount": true}
		var walk func(v any)
		walk = func(v any) {
			switch x := v.(type) {
			case map[string]any:
				for k, m := range x {
					if !sentence[k] && !strings.Contains(shown, fieldWord(k)) {
						t.Errorf("member %q not named in %q", k, shown)
					}
					walk(m)
				}
			case []any:
				for _, m := range x {
					walk(m)
				}
			case string:
				if !strings.Contains(shown, x) && !strings.Contains(strings.ReplaceAll(shown, " ", ""), x) && x != "EUR" &&
					x != "payment_initiation" && x != "x" {
					if a, ok := germanAmount(x); !ok || !strings.Contains(shown, a) {
						t.Errorf("value %q hidden in %q", x, shown)
					}
				}
			case float64:
				if !strings.Contains(shown, strings.TrimSuffix(strings.TrimSuffix(json.Number(formatFloat(x)).String(), ".0"), ".00")) {
					t.Errorf("number %v hidden in %q", x, shown)
				}
			}
		}
		walk(list)
	}
}

func formatFloat(f float64) string { b, _ := json.Marshal(f); return string(b) }

// TestDetailsRefuseHiddenCharacters: a right-to-left override or a zero
// width character anywhere, in a sentence or a list, refuses the request.
func TestDetailsRefuseHiddenCharacters(t *testing.T) {
	for _, raw := range []string{
		`[{"type":"payment_initiation","creditor":"Apotheke \u202eDE02"}]`,
		`[{"type":"payment_initiation","creditorName":"A\u200bB"}]`,
		`[{"type":"payment_initiation","remittanceInformationUnstructured":"x\u2028y"}]`,
		`[{"type":"payment_initiation","creditorAccount":{"iban":"DE02\u202e"}}]`,
		`[{"type":"payment_initiation","n":{"a\u200bb":1}}]`,
	} {
		if _, _, err := parseDetails(raw, []string{"payment_initiation"}); err == nil {
			t.Errorf("parseDetails(%s) accepted", raw)
		}
	}
}
