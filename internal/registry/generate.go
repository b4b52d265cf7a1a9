package registry

import (
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/pforte/pforte/internal/store"
)

// kvnrSpace is the number of distinct KVNRs: 26 letters times 10^8 digit
// strings (the check digit follows from them).
const kvnrSpace = 26 * 100_000_000

// Generate writes count synthetic insured persons in the registry CSV format
// to w, header first. The output depends only on count, seed and now: the same
// arguments give the same bytes. Persons come in families: a member with up to
// three dependents (a spouse, children, some under 15 at now) sharing the
// member's address. About 5 % of birth dates are partial, about 85 % of
// addresses are verified by the registration register (melderegister), about
// 70 % of persons have a German IBAN. All KVNRs are valid and unique.
func Generate(w io.Writer, count int, seed int64, now time.Time) error {
	if count < 0 || count > kvnrSpace {
		return fmt.Errorf("registry: generate: count %d out of range", count)
	}
	g := &generator{
		rng: rand.New(rand.NewPCG(uint64(seed), 0x7066_6f72_7465)),
		now: now,
	}
	g.kvnrOffset = g.rng.Uint32N(kvnrSpace)
	g.kvnrKey = g.rng.Uint32()
	cw := NewWriter(w)
	for g.n < count {
		if err := g.family(cw, count); err != nil {
			return err
		}
	}
	if err := cw.Flush(); err != nil {
		return fmt.Errorf("registry: generate: %w", err)
	}
	return nil
}

type generator struct {
	rng        *rand.Rand
	now        time.Time
	n          int // persons written
	kvnrOffset uint32
	kvnrKey    uint32
}

// family writes a member and their dependents, at most up to count persons.
func (g *generator) family(cw *Writer, count int) error {
	member := g.adult(18, 85)
	member.Relation = store.RelationMember
	if g.chance(0.04) {
		member.Title = "Dr."
	} else if g.chance(0.01) {
		member.Title = "Prof. Dr."
	}
	city := cities[g.rng.IntN(len(cities))]
	member.Street = streets[g.rng.IntN(len(streets))]
	member.HouseNumber = g.houseNumber()
	member.PostalCode, member.City = city.postalCode, city.name
	if g.chance(0.85) {
		days := g.rng.IntN(730)
		member.AddressVerifiedAt = g.now.UTC().Add(-time.Duration(days)*24*time.Hour - time.Duration(g.rng.IntN(86400))*time.Second).Truncate(time.Second)
		member.AddressVerifiedBy = "melderegister"
	}
	if g.chance(0.95) {
		member.IBAN = g.iban()
	}
	if err := g.write(cw, &member); err != nil {
		return err
	}

	var deps int
	switch x := g.rng.IntN(100); {
	case x < 45:
		deps = 0
	case x < 70:
		deps = 1
	case x < 87:
		deps = 2
	default:
		deps = 3
	}
	memberAge := g.now.Year() - member.BirthDate.Year()
	// Children are family-insured up to 25 and born to parents of 18 to 45.
	childMin, childMax := max(0, memberAge-45), min(24, memberAge-18)
	if childMin > childMax {
		deps = min(deps, 1) // only a spouse
	}
	for d := 0; d < deps && g.n < count; d++ {
		var dep Row
		if d == 0 && (childMin > childMax || g.chance(0.5)) {
			// spouse, family-insured
			lo := max(18, memberAge-8)
			dep = g.adult(lo, max(lo, memberAge+5))
			dep.FamilyName = member.FamilyName
			if g.chance(0.5) {
				dep.BirthName = g.otherFamilyName(member.FamilyName)
			}
			if g.chance(0.6) {
				dep.IBAN = g.iban()
			}
		} else {
			age := childMin + g.rng.IntN(childMax-childMin+1)
			dep = g.person(age)
			dep.FamilyName = member.FamilyName
			if age >= 18 && g.chance(0.4) || age < 18 && g.chance(0.2) {
				dep.IBAN = g.iban()
			}
		}
		dep.Street, dep.HouseNumber = member.Street, member.HouseNumber
		dep.PostalCode, dep.City = member.PostalCode, member.City
		dep.AddressVerifiedAt, dep.AddressVerifiedBy = member.AddressVerifiedAt, member.AddressVerifiedBy
		dep.Relation = store.RelationDependent
		dep.MemberKVNR = member.KVNR
		if err := g.write(cw, &dep); err != nil {
			return err
		}
	}
	return nil
}

func (g *generator) write(cw *Writer, r *Row) error {
	r.KVNR = g.kvnr(g.n)
	g.n++
	if err := cw.Write(*r); err != nil {
		return fmt.Errorf("registry: generate: %w", err)
	}
	return nil
}

// adult returns a person aged lo to hi years with a family name.
func (g *generator) adult(lo, hi int) Row {
	r := g.person(lo + g.rng.IntN(hi-lo+1))
	r.FamilyName = familyNames[g.rng.IntN(len(familyNames))]
	return r
}

// person returns given names and a birth date age years (and up to a year
// more) before now.
func (g *generator) person(age int) Row {
	names, salutation := femaleNames, "Frau"
	if g.chance(0.5) {
		names, salutation = maleNames, "Herr"
	}
	given := names[g.rng.IntN(len(names))]
	if g.chance(0.15) {
		second := names[g.rng.IntN(len(names))]
		if second != given {
			given += " " + second
		}
	}
	born := g.now.AddDate(-age, 0, -g.rng.IntN(365))
	y, m, d := born.Date()
	bd := NewBirthDate(y, m, d)
	if g.chance(0.05) {
		if g.chance(0.5) {
			bd = BirthDate{year: int16(y)}
		} else {
			bd = BirthDate{year: int16(y), month: uint8(m)}
		}
	}
	return Row{GivenNames: given, BirthDate: bd, Salutation: salutation}
}

func (g *generator) otherFamilyName(not string) string {
	for {
		if n := familyNames[g.rng.IntN(len(familyNames))]; n != not {
			return n
		}
	}
}

func (g *generator) houseNumber() string {
	h := strconv.Itoa(1 + g.rng.IntN(150))
	if g.chance(0.1) {
		h += string(rune('a' + g.rng.IntN(4)))
	}
	return h
}

func (g *generator) iban() string {
	bank := bankCodes[g.rng.IntN(len(bankCodes))]
	account := strconv.FormatUint(1_000_000+g.rng.Uint64N(9_999_000_000), 10)
	iban, err := GermanIBAN(bank, account)
	if err != nil {
		panic("registry: generate: bad bank table: " + err.Error()) // the tables are constant
	}
	return iban
}

// kvnr returns the i-th KVNR of a permutation of all KVNRs chosen by the seed,
// so the generator's KVNRs are unique without remembering them and do not
// look sequential. The permutation mixes 32-bit numbers bijectively and walks
// the cycle until it lands below kvnrSpace (< 2^32), which keeps it bijective
// on [0, kvnrSpace).
func (g *generator) kvnr(i int) string {
	n := uint32((uint64(i) + uint64(g.kvnrOffset)) % kvnrSpace)
	for {
		n = g.mix(n)
		if n < kvnrSpace {
			break
		}
	}
	var b [10]byte
	b[0] = byte('A' + n/100_000_000)
	rest := n % 100_000_000
	for j := 8; j >= 1; j-- {
		b[j] = byte('0' + rest%10)
		rest /= 10
	}
	b[9] = kvnrCheckDigit(string(b[:9]))
	return string(b[:])
}

// mix is a bijection of uint32 keyed by g.kvnrKey.
func (g *generator) mix(x uint32) uint32 {
	x ^= g.kvnrKey
	x *= 0x9E3779B1
	x ^= x >> 16
	x *= 0x85EBCA6B
	x ^= x >> 13
	return x
}

func (g *generator) chance(p float64) bool { return g.rng.Float64() < p }

var familyNames = [...]string{
	"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner",
	"Becker", "Schulz", "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter",
	"Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann", "Braun",
	"Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt", "Werner", "Schmitz",
	"Krause", "Meier", "Lehmann", "Schmid", "Schulze", "Maier", "Köhler",
	"Herrmann", "König", "Walter", "Mayer", "Huber", "Kaiser", "Fuchs",
	"Peters", "Lang", "Scholz", "Möller", "Weiß", "Jung", "Hahn", "Schubert",
	"Vogel", "Friedrich", "Keller", "Günther", "Frank", "Berger", "Winkler",
	"Roth", "Beck", "Lorenz", "Baumann", "Franke", "Albrecht", "Schuster",
	"Simon", "Ludwig", "Böhm", "Winter", "Kraus", "Martin", "Schumacher",
	"Krämer", "Vogt", "Stein", "Jäger", "Otto", "Sommer", "Groß", "Seidel",
	"Heinrich", "Brandt", "Haas", "Schreiber", "Graf", "Schulte", "Dietrich",
	"Ziegler", "Kuhn", "Kühn", "Pohl", "Engel", "Horn", "Busch", "Bergmann",
	"Voigt", "Sauer", "Arnold", "Wolff", "Pfeiffer", "Löwe", "Grün", "Straßer",
	"Yılmaz", "Nowak", "Kowalski", "Nguyen", "Popović", "von Bülow",
	"Müller-Lüdenscheidt", "Meißner", "Jüngling", "Großmann", "Öztürk",
}

var femaleNames = []string{
	"Maria", "Ursula", "Monika", "Petra", "Elisabeth", "Sabine", "Renate",
	"Helga", "Karin", "Brigitte", "Ingrid", "Erika", "Andrea", "Gisela",
	"Claudia", "Susanne", "Gabriele", "Christa", "Christine", "Käthe",
	"Anna", "Lena", "Leonie", "Hannah", "Emma", "Mia", "Sophie", "Lea",
	"Jülide", "Zoë", "Chloé", "Bärbel", "Jana", "Katharina", "Anna-Lena",
	"Marie-Luise", "Lotte", "Frieda", "Grete", "Hülya", "Małgorzata",
}

var maleNames = []string{
	"Peter", "Michael", "Thomas", "Andreas", "Wolfgang", "Klaus", "Jürgen",
	"Günter", "Stefan", "Christian", "Uwe", "Werner", "Horst", "Frank",
	"Dieter", "Manfred", "Gerhard", "Hans", "Bernd", "Torsten", "Sören",
	"Björn", "Jörg", "Jan", "Lukas", "Leon", "Finn", "Jonas", "Paul", "Elias",
	"Noah", "Ben", "Felix", "Maximilian", "Lars", "Mehmet", "Hans-Jürgen",
	"Karl-Heinz", "Ömer", "Jörn", "Tomasz", "Matthäus",
}

var streets = [...]string{
	"Hauptstraße", "Bahnhofstraße", "Lindenallee", "Am Mühlbach", "Gartenweg",
	"Schulstraße", "Dorfstraße", "Kirchstraße", "Bergstraße", "Waldweg",
	"Ringstraße", "Goethestraße", "Schillerstraße", "Mozartweg",
	"Friedrich-Ebert-Straße", "Am Markt", "Rosenweg", "Birkenweg",
	"Lessingstraße", "Jahnstraße", "Sonnenstraße", "Wiesenweg", "Feldstraße",
	"Im Winkel", "Kastanienallee", "Eichendorffstraße", "Mühlenweg",
	"Am Schloßpark", "Lange Reihe", "Königsallee", "Tulpenstraße",
	"Zur Alten Brücke", "Brückenstraße", "Parkstraße", "Weißdornweg",
}

// cities pairs real German cities with one of their postal codes.
var cities = [...]struct{ postalCode, name string }{
	{"10115", "Berlin"}, {"20095", "Hamburg"}, {"80331", "München"},
	{"50667", "Köln"}, {"60311", "Frankfurt am Main"}, {"70173", "Stuttgart"},
	{"40213", "Düsseldorf"}, {"44135", "Dortmund"}, {"45127", "Essen"},
	{"04109", "Leipzig"}, {"28195", "Bremen"}, {"01067", "Dresden"},
	{"30159", "Hannover"}, {"90402", "Nürnberg"}, {"47051", "Duisburg"},
	{"44787", "Bochum"}, {"42103", "Wuppertal"}, {"33602", "Bielefeld"},
	{"53111", "Bonn"}, {"48143", "Münster"}, {"76133", "Karlsruhe"},
	{"68159", "Mannheim"}, {"86150", "Augsburg"}, {"65183", "Wiesbaden"},
	{"38100", "Braunschweig"}, {"24103", "Kiel"}, {"09111", "Chemnitz"},
	{"06108", "Halle (Saale)"}, {"39104", "Magdeburg"},
	{"79098", "Freiburg im Breisgau"}, {"23552", "Lübeck"}, {"99084", "Erfurt"},
	{"55116", "Mainz"}, {"18055", "Rostock"}, {"34117", "Kassel"},
	{"52062", "Aachen"}, {"14467", "Potsdam"}, {"66111", "Saarbrücken"},
	{"93047", "Regensburg"}, {"97070", "Würzburg"}, {"89073", "Ulm"},
	{"19053", "Schwerin"}, {"07743", "Jena"}, {"03046", "Cottbus"},
	{"26122", "Oldenburg"}, {"49074", "Osnabrück"}, {"54290", "Trier"},
	{"94032", "Passau"}, {"87435", "Kempten (Allgäu)"}, {"17489", "Greifswald"},
}

// bankCodes are German bank codes (Bankleitzahlen) of large banks and savings
// banks. The account numbers the generator pairs them with are random.
var bankCodes = [...]string{
	"10010010", "20050550", "37040044", "50010517", "70150000", "12030000",
	"43060967", "76050101", "86055592", "30050110", "25050180", "60050101",
}
