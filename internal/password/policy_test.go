package password

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// person is the context most policy tests use.
var person = Context{
	KVNR:       "A123456780",
	BirthDate:  "1970-03-14",
	FamilyName: "Müller-Lüdenscheidt",
	GivenNames: "Anna Maria",
	BirthName:  "Schneider",
	City:       "Frankfurt am Main",
	Street:     "Hauptstraße 12",
}

var insurer = Policy{InsurerName: "Techniker Krankenkasse"}

func reasons(codes ...Code) []Reason {
	var out []Reason
	for _, c := range codes {
		r := Reason{Code: c}
		switch c {
		case TooShort:
			r.Limit = DefaultMinLength
		case TooLong:
			r.Limit = DefaultMaxLength
		}
		out = append(out, r)
	}
	return out
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name   string
		policy Policy
		pw     string
		ctx    Context
		want   []Reason
	}{
		// Accepted.
		{"random", insurer, "Kx7!mehrWald92", person, nil},
		{"passphrase", insurer, "correct horse battery staple", person, nil},
		{"german passphrase", insurer, "Zitronenfalter im Gewächshaus", person, nil},
		{"unicode with spaces", insurer, "Grüße aus Köln am Rhein 🌧", person, nil},
		{"cyrillic", insurer, "Пароль для Кассы 77!", person, nil},
		{"cjk", insurer, "静かな湖の上の月明かり", person, nil},
		{"exactly min length", insurer, "Kx7!mehrWa", person, nil},
		{"exactly max length", insurer, strings.Repeat("Kx7!mehrWald92 ", 9)[:128], Context{}, nil},
		{"no context", Policy{}, "Tannenzapfen fallen leise", Context{}, nil},
		{"three-letter name inside a word", Policy{}, "Evaluation der Wolkenberge", Context{GivenNames: "Eva"}, nil},
		{"long affix left to zxcvbn", Policy{}, "dragon83749201948", Context{}, nil},

		// Length.
		{"too short", insurer, "Ab3!xY", person, reasons(TooShort)},
		{"too short by one", insurer, "Kx7!mehrW", person, reasons(TooShort)},
		{"too short in runes not bytes", insurer, "ÄÖÜäöüßẞ€", person, reasons(TooShort)},
		{"raised min length", Policy{MinLength: 16}, "Kx7!mehrWald92", Context{}, []Reason{{Code: TooShort, Limit: 16}}},
		{"too long", insurer, strings.Repeat("Kx7!mehrWald92 ", 9), person, reasons(TooLong)},
		{"too long in bytes", insurer, strings.Repeat("€", 5000), person, reasons(TooLong)},
		{"lowered max length", Policy{MaxLength: 20}, "Zitronenfalter im Gewächshaus", Context{}, []Reason{{Code: TooLong, Limit: 20}}},

		// Encoding.
		{"invalid utf-8", insurer, "Kx7!mehr\xffWald92", person, reasons(InvalidUTF8)},
		{"tab", insurer, "Kx7!mehr\tWald92", person, reasons(ControlCharacters)},
		{"newline", insurer, "Kx7!mehrWald92\n", person, reasons(ControlCharacters)},
		{"nul", insurer, "Kx7!mehr\x00Wald92", person, reasons(ControlCharacters)},
		{"c1 control", insurer, "Kx7!mehr\u0085Wald92", person, reasons(ControlCharacters)},

		// Blocklist: zxcvbn's list.
		{"english common", Policy{}, "qwertyuiop", Context{}, reasons(Common)},
		{"english common upper", Policy{}, "PASSWORD123", Context{}, reasons(Common)},
		{"english leet", Policy{}, "P@ssw0rd123", Context{}, reasons(Common)},
		// Blocklist: the German list.
		{"german", Policy{}, "passwort", Context{}, reasons(TooShort, Common)},
		{"german upper", Policy{}, "PASSWORT!!", Context{}, reasons(Common)},
		{"german trailing digits", Policy{}, "Passwort2024!", Context{}, reasons(Common)},
		{"german leading digits", Policy{}, "123Passwort", Context{}, reasons(Common)},
		{"german leet", Policy{}, "P4ssw0rt!!", Context{}, reasons(Common)},
		{"german leet dollar", Policy{}, "$ommer2024", Context{}, reasons(Common)},
		{"german spaces", Policy{}, "Ich liebe Dich", Context{}, reasons(Common)},
		{"german umlaut", Policy{}, "Frühling2023", Context{}, reasons(Common)},
		{"german umlaut transliterated", Policy{}, "Fruehling2023", Context{}, reasons(Common)},
		{"german city", Policy{}, "Muenchen1234", Context{}, reasons(Common)},
		{"german city umlaut", Policy{}, "München1234", Context{}, reasons(Common)},
		{"german football", Policy{}, "Schalke04!!", Context{}, reasons(Common)},
		{"german pet name", Policy{}, "Schatzi12345", Context{}, reasons(Common)},
		{"german long word", Policy{}, "Schmetterling2024", Context{}, reasons(Common)},
		{"sharp s", Policy{}, "Schlüssel!!", Context{}, reasons(Common)},
		{"generated season", Policy{}, "dezember1953", Context{}, reasons(Common)},
		{"generated passwort digits", Policy{}, "passwort4711", Context{}, reasons(Common)},
		{"qwertz row", Policy{}, "qwertzuiop", Context{}, reasons(Common)},
		{"qwertz row backwards", Policy{}, "poiuztrewq", Context{}, reasons(Common)},
		{"qwertz column", Policy{}, "1qay2wsx3edc", Context{}, reasons(Common)},
		{"service word also common", Policy{}, "Krankenkasse1!", Context{}, reasons(Common, ContainsServiceName)},

		// Personal data.
		{"given name", insurer, "Anna!Blauer-Himmel", person, reasons(ContainsPersonalData)},
		{"second given name leet", insurer, "M4ria und der Wald", person, reasons(ContainsPersonalData)},
		{"family name part transliterated", insurer, "Mueller#Waldspaziergang", person, reasons(ContainsPersonalData)},
		{"family name part without dots", insurer, "Muller Waldspaziergang", person, reasons(ContainsPersonalData)},
		{"family name joined", insurer, "xmullerludenscheidtx", person, reasons(ContainsPersonalData)},
		{"birth name", insurer, "Schneiderei am See", person, reasons(ContainsPersonalData)},
		{"city", insurer, "Frankfurter Würstchen", person, reasons(ContainsPersonalData)},
		{"street", insurer, "Hauptstrasse fuehrt weiter", person, reasons(ContainsPersonalData)},
		{"kvnr", insurer, "A123456780 ist gut", person, reasons(ContainsPersonalData)},
		{"kvnr lower", insurer, "a123456780 ist gut", person, reasons(ContainsPersonalData)},
		{"kvnr digits", insurer, "Ziel: 123456780 Punkte", person, reasons(ContainsPersonalData)},
		{"birth date ddmmyyyy", insurer, "Blauer Himmel 14031970", person, reasons(ContainsPersonalData)},
		{"birth date ddmmyy", insurer, "xBlauerHimmel140370", person, reasons(ContainsPersonalData)},
		{"birth date dotted", insurer, "Wolken 14.03.1970 ziehen", person, reasons(ContainsPersonalData)},
		{"birth date iso", insurer, "Wolken 1970-03-14 ziehen", person, reasons(ContainsPersonalData)},
		{"birth date unpadded", insurer, "Wolken 14.3.1970 ziehen", person, reasons(ContainsPersonalData)},
		{"birth year", insurer, "Himmel1970Wolken", person, reasons(ContainsPersonalData)},
		{"birth date given dotted", Policy{}, "Blauer Himmel 140370", Context{BirthDate: "14.03.1970"}, reasons(ContainsPersonalData)},
		{"birth date year only", Policy{}, "Blauer Himmel 1970!", Context{BirthDate: "1970"}, reasons(ContainsPersonalData)},
		{"birth date year and month", Policy{}, "Blauer Himmel 031970", Context{BirthDate: "1970-03"}, reasons(ContainsPersonalData)},
		{"three-letter name as a word", Policy{}, "Eva liebt Wolkenberge", Context{GivenNames: "Eva"}, reasons(ContainsPersonalData)},
		{"personal and short", insurer, "Anna1970", person, reasons(TooShort, Common, ContainsPersonalData)},

		// Service and insurer.
		{"pforte", insurer, "Pforte ist mein Tor 99", person, reasons(ContainsServiceName)},
		{"insurer word", insurer, "techniker-wolke-77x", person, reasons(ContainsServiceName)},
		{"krankenkasse in a phrase", insurer, "meine Krankenkasse ist toll", person, reasons(ContainsServiceName)},

		// Strength.
		{"repeat", Policy{}, "aaaaaaaaaaaa", Context{}, reasons(TooWeak)},
		{"sequence", Policy{}, "abcdefghijklmn", Context{}, reasons(TooWeak)},
		{"long repeat", Policy{}, "sommer2024sommer2024", Context{}, reasons(TooWeak)},
		{"long keyboard walk", Policy{}, "qwertzuiopasdfghjkl", Context{}, reasons(TooWeak)},
		{"min score 4", Policy{MinScore: 4}, "$ommer2o2x!", Context{}, reasons(TooWeak)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.policy.Check(tt.pw, tt.ctx)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Check(%q) mismatch (-want +got):\n%s", tt.pw, diff)
			}
		})
	}
}

func TestCheckNFKCEquivalent(t *testing.T) {
	pairs := []struct{ a, b string }{
		{"Grüße aus Köln am Rhein 🌧", "Gru\u0308ße aus Ko\u0308ln am Rhein 🌧"},
		{"ﬁnstere Wolkenberge 7", "finstere Wolkenberge 7"},
		{"Ｐａｓｓｗｏｒｔ２０２４", "Passwort2024"},
		{"ｋｕｒｚ", "kurz"},
	}
	p := Policy{}
	for _, pr := range pairs {
		if Normalize(pr.a) != Normalize(pr.b) {
			t.Errorf("Normalize(%q) = %q, Normalize(%q) = %q, want equal", pr.a, Normalize(pr.a), pr.b, Normalize(pr.b))
		}
		if diff := cmp.Diff(p.Check(pr.b, person), p.Check(pr.a, person)); diff != "" {
			t.Errorf("Check(%q) differs from Check(%q) (-b +a):\n%s", pr.a, pr.b, diff)
		}
		if a, b := p.Strength(pr.a, person), p.Strength(pr.b, person); a != b {
			t.Errorf("Strength(%q) = %d, Strength(%q) = %d, want equal", pr.a, a, pr.b, b)
		}
	}
}

// TestStrengthNonASCII checks that non-ASCII passwords are scored by what
// they are, not refused as weak because the estimator indexes bytes.
func TestStrengthNonASCII(t *testing.T) {
	tests := []struct {
		pw      string
		atLeast int
		atMost  int
	}{
		{"Пароль для Кассы 77!", 3, 4},
		{"Äj>ö')üMPWäüü?€bßß%c", 4, 4},
		{"静かな湖の上の月明かり", 3, 4},
		{"ääääääääääää", 0, 1},
		{"ЖЖЖЖЖЖЖЖЖЖЖЖ", 0, 1},
	}
	for _, tt := range tests {
		if got := (Policy{}).Strength(tt.pw, Context{}); got < tt.atLeast || got > tt.atMost {
			t.Errorf("Strength(%q) = %d, want %d to %d", tt.pw, got, tt.atLeast, tt.atMost)
		}
	}
}

func TestASCIIForStrength(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Kx7!mehrWald92", "Kx7!mehrWald92"},
		{"Grüße", "Gruesse"},
		{"ÄÖÜẞ", "AeOeUeSS"},
		{"ЖxЖ", "!x!"},
		{"Ж!Жя", "F!Fk"},
	}
	for _, tt := range tests {
		if got := asciiForStrength(tt.in); got != tt.want {
			t.Errorf("asciiForStrength(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	long := []rune{}
	for r := rune(0x0410); len(long) < strengthPrefix; r++ {
		long = append(long, r)
	}
	got := asciiForStrength(string(long))
	seen := map[rune]bool{}
	for _, r := range got {
		if r >= utf8.RuneSelf || seen[r] {
			t.Fatalf("asciiForStrength of %d distinct runes = %q: not distinct ASCII", len(long), got)
		}
		seen[r] = true
	}
}

func TestStrengthAgreesWithCheck(t *testing.T) {
	for _, p := range []Policy{{}, {MinScore: 4}, {MinScore: 1}, {MinLength: 14}} {
		for _, pw := range []string{
			"", "kurz", "Ab3!xY", "passwort", "Passwort2024!", "aaaaaaaaaaaa", "sommer2024sommer2024",
			"Kx7!mehrWald92", "Kx7!mehrW", "correct horse battery staple", "Anna!Blauer-Himmel",
			"Kx7!mehr\tWald92", "\xff\xfe", strings.Repeat("x", 200), "$ommer2o2x!", "Zitronenfalter",
		} {
			accepted := len(p.Check(pw, person)) == 0
			s := p.Strength(pw, person)
			minScore := p.withDefaults().MinScore
			if s < 0 || s > 4 {
				t.Errorf("%+v: Strength(%q) = %d, want 0 to 4", p, pw, s)
			}
			if accepted != (s >= minScore) {
				t.Errorf("%+v: Strength(%q) = %d with min score %d, but Check accepted = %v", p, pw, s, minScore, accepted)
			}
		}
	}
}

// TestCheckRandomStrong checks that strong random passwords are never
// refused, but for the rare one that happens to hold a personal word once
// umlauts and leetspeak are undone ("zgmÄ1n0" holds "main" of "Frankfurt am
// Main"): that refusal is right, and the test then checks that the word is
// really there.
func TestCheckRandomStrong(t *testing.T) {
	alphabet := []rune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" +
		"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ äöüÄÖÜß€§°µ")
	pick := func(n int) int {
		v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
		if err != nil {
			t.Fatal(err)
		}
		return int(v.Int64())
	}
	p := Policy{InsurerName: "Techniker Krankenkasse"}
	for range 1000 {
		r := make([]rune, 16+pick(17))
		for i := range r {
			r[i] = alphabet[pick(len(alphabet))]
		}
		pw := string(r)
		got := p.Check(pw, person)
		if len(got) == 1 && got[0].Code == ContainsPersonalData {
			personal, _ := contextWords(person, p.InsurerName)
			loose, all := passwordForms(pw)
			if containsAny(loose, all, personal) {
				continue // a personal word by chance, found rightly
			}
		}
		if len(got) != 0 {
			t.Errorf("Check(%q) = %v, want nothing", pw, got)
		}
	}
}

func TestCheckNeverEchoes(t *testing.T) {
	ctxs := []Context{person, {GivenNames: "Eva", FamilyName: "Ott", BirthDate: "01.02.1999", KVNR: "Z987654321", City: "Ulm", Street: "Am Weg 3"}}
	pws := []string{
		"Anna!Blauer-Himmel", "Passwort2024!", "Kurz", "Eva liebt Wolkenberge", "Ott", "Ulm1999",
		"Z987654321!", "Wolken 14.03.1970 ziehen", "aaaaaaaaaaaa", "Pforte ist mein Tor 99",
		"Kx7!mehr\tWald92", "Das Passwort", strings.Repeat("Zeichen", 30),
	}
	for _, c := range ctxs {
		secrets := []string{c.KVNR, c.BirthDate, c.FamilyName, c.GivenNames, c.BirthName, c.City, c.Street}
		for _, pw := range pws {
			for _, r := range insurer.Check(pw, c) {
				for _, lang := range []string{"de", "en"} {
					msg := r.Message(lang) + " " + r.String()
					if pw != "Das Passwort" && strings.Contains(msg, pw) {
						t.Errorf("message %q echoes the password %q", msg, pw)
					}
					for _, s := range secrets {
						if s != "" && strings.Contains(strings.ToLower(msg), strings.ToLower(s)) {
							t.Errorf("message %q contains the personal datum %q", msg, s)
						}
					}
				}
			}
		}
	}
}

func TestReasonMessage(t *testing.T) {
	tests := []struct {
		reason Reason
		lang   string
		want   string
	}{
		{Reason{Code: TooShort, Limit: 10}, "de", "Das Passwort muss mindestens 10 Zeichen lang sein."},
		{Reason{Code: TooShort, Limit: 12}, "en", "The password must be at least 12 characters long."},
		{Reason{Code: TooLong, Limit: 128}, "", "Das Passwort darf höchstens 128 Zeichen lang sein."},
		{Reason{Code: TooLong, Limit: 128}, "en-GB", "The password must be at most 128 characters long."},
		{Reason{Code: Common}, "de-DE", "Das Passwort steht auf einer Liste häufig verwendeter Passwörter."},
		{Reason{Code: Common}, "EN_us", "The password is on a list of commonly used passwords."},
		{Reason{Code: ContainsPersonalData}, "de", "Das Passwort darf Ihren Namen, Ihre Anschrift, Ihr Geburtsdatum oder Ihre Versichertennummer nicht enthalten."},
		{Reason{Code: ContainsPersonalData}, "en", "The password must not contain your name, your address, your date of birth or your health insurance number."},
		{Reason{Code: ContainsServiceName}, "fr", "Das Passwort darf nicht den Namen Ihrer Krankenkasse oder dieses Dienstes enthalten."},
		{Reason{Code: ControlCharacters}, "de", "Das Passwort darf keine Steuerzeichen wie Tabulatoren oder Zeilenumbrüche enthalten."},
		{Reason{Code: Code(200)}, "de", "Das Passwort kann nicht verwendet werden."},
		{Reason{Code: Code(200)}, "en", "The password cannot be used."},
	}
	for _, tt := range tests {
		if got := tt.reason.Message(tt.lang); got != tt.want {
			t.Errorf("%v.Message(%q) = %q, want %q", tt.reason, tt.lang, got, tt.want)
		}
	}
}

// TestReasonMessagesComplete checks every code has its own German and English
// sentence and a name.
func TestReasonMessagesComplete(t *testing.T) {
	seen := map[string]Code{}
	for c := InvalidUTF8; c <= TooWeak; c++ {
		r := Reason{Code: c, Limit: 10}
		de, en := r.Message("de"), r.Message("en")
		for _, m := range []string{de, en} {
			if !strings.HasSuffix(m, ".") || m == (Reason{}).Message("de") || m == (Reason{}).Message("en") {
				t.Errorf("%v: message %q is not a specific sentence", c, m)
			}
			if prev, ok := seen[m]; ok {
				t.Errorf("%v and %v share the message %q", prev, c, m)
			}
			seen[m] = c
		}
		if !strings.HasPrefix(de, "Das Passwort") || !strings.HasPrefix(en, "The password") {
			t.Errorf("%v: messages %q, %q do not start with the subject", c, de, en)
		}
		if name := c.String(); strings.HasPrefix(name, "code(") || strings.ToLower(name) != name {
			t.Errorf("%v: name %q is not a snake_case name", c, name)
		}
	}
	if got, want := Code(99).String(), "code(99)"; got != want {
		t.Errorf("Code(99).String() = %q, want %q", got, want)
	}
}

func TestPolicyValidate(t *testing.T) {
	tests := []struct {
		name   string
		policy Policy
		want   int // number of errors
	}{
		{"zero is default", Policy{}, 0},
		{"raised", Policy{MinLength: 16, MaxLength: 64, MinScore: 4, InsurerName: "AOK Nordost"}, 0},
		{"min length below 10", Policy{MinLength: 8}, 1},
		{"min length negative", Policy{MinLength: -1}, 1},
		{"max length above 128", Policy{MaxLength: 129}, 1},
		{"max below min", Policy{MinLength: 20, MaxLength: 15}, 1},
		{"min score 5", Policy{MinScore: 5}, 1},
		{"min score negative", Policy{MinScore: -1}, 1},
		{"insurer invalid utf-8", Policy{InsurerName: "\xff"}, 1},
		{"everything at once", Policy{MinLength: 5, MaxLength: 200, MinScore: 9}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := tt.policy.Validate()
			if len(errs) != tt.want {
				t.Errorf("Validate() = %v, want %d errors", errs, tt.want)
			}
			for _, err := range errs {
				if !strings.HasPrefix(err.Error(), "password: policy: ") {
					t.Errorf("error %q lacks the prefix", err)
				}
			}
		})
	}
}

func TestContextRedacted(t *testing.T) {
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("check", "ctx", person)
	out := []string{
		fmt.Sprint(person), fmt.Sprintf("%v %+v %#v %s %q %x", person, person, person, person, person, person),
		person.String(), buf.String(),
	}
	for _, o := range out {
		for _, s := range []string{"A123456780", "1970", "Müller", "Anna", "Schneider", "Frankfurt", "Haupt"} {
			if strings.Contains(o, s) {
				t.Errorf("%q reveals %q", o, s)
			}
		}
	}
}

func TestParseDate(t *testing.T) {
	type ymd struct {
		Y, M, D int
		OK      bool
	}
	tests := []struct {
		in   string
		want ymd
	}{
		{"1970-03-14", ymd{1970, 3, 14, true}},
		{"1970-03", ymd{1970, 3, 0, true}},
		{"1970", ymd{1970, 0, 0, true}},
		{"14.03.1970", ymd{1970, 3, 14, true}},
		{"1970-00-00", ymd{}},
		{"1970-03-00", ymd{}},
		{"1970-13-01", ymd{}},
		{"1970-3-14", ymd{}},
		{"70-03-14", ymd{}},
		{"14.3.1970", ymd{}},
		{"1970-03-14-01", ymd{}},
		{"", ymd{}},
		{"abcd", ymd{}},
		{"+970", ymd{}},
	}
	for _, tt := range tests {
		y, m, d, ok := parseDate(tt.in)
		got := ymd{y, m, d, ok}
		if !ok {
			got = ymd{}
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("parseDate(%q) mismatch (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestContextWords(t *testing.T) {
	personal, service := contextWords(Context{
		KVNR: "A123456780", BirthDate: "1970-03-14", FamilyName: "Müller-Lüdenscheidt",
		GivenNames: "Jo Eva", City: "Frankfurt am Main", Street: "Am Weg 3",
	}, "AOK Nordost")
	want := []string{
		"a123456780", "123456780",
		"1970", "031970", "197003", "14031970", "140370", "19700314", "700314", "03141970", "1431970", "14370",
		"mueller", "muller", "luedenscheidt", "ludenscheidt", "muellerluedenscheidt", "mullerludenscheidt",
		"eva", "joeva",
		"frankfurt", "main", "frankfurtammain",
		"amweg",
	}
	if diff := cmp.Diff(want, personal); diff != "" {
		t.Errorf("personal words mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"pforte", "krankenkasse", "aok", "nordost", "aoknordost"}, service); diff != "" {
		t.Errorf("service words mismatch (-want +got):\n%s", diff)
	}
}

func FuzzCheck(f *testing.F) {
	for _, s := range []string{
		"", "Kx7!mehrWald92", "Passwort2024!", "P4ssw0rt", "\xff", "a\tb", "Grüße aus Köln am Rhein 🌧",
		"1970-03-14", "Anna Maria", "$ommer2024", "ﬁ", strings.Repeat("ä", 200), "!!!!!!!", "1q2w3e4r",
	} {
		f.Add(s, "Anna Maria", "1970-03-14")
	}
	p := Policy{InsurerName: "Techniker Krankenkasse"}
	f.Fuzz(func(t *testing.T, pw, names, birth string) {
		c := person
		c.GivenNames, c.BirthDate = names, birth
		first := p.Check(pw, c)
		if diff := cmp.Diff(first, p.Check(pw, c)); diff != "" {
			t.Fatalf("Check(%q) is not stable (-first +second):\n%s", pw, diff)
		}
		if len(first) > 5 {
			t.Fatalf("Check(%q) = %v: more reasons than can apply together", pw, first)
		}
		for i, r := range first {
			if r.Code < InvalidUTF8 || r.Code > TooWeak || (i > 0 && r.Code <= first[i-1].Code) {
				t.Fatalf("Check(%q) = %v: unknown code or out of order", pw, first)
			}
		}
		if s := p.Strength(pw, c); s < 0 || s > 4 {
			t.Fatalf("Strength(%q) = %d, want 0 to 4", pw, s)
		}
	})
}
