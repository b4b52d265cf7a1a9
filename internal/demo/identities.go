package demo

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pforte/pforte/internal/eid/sim"
	"github.com/pforte/pforte/internal/registry"
	"github.com/pforte/pforte/internal/store"
)

// Persons lists the register (the store).
type Persons interface {
	ListPersons(ctx context.Context, after store.PersonID, limit int) ([]store.Person, error)
}

// Identities picks adult members with full birth dates from the register and
// derives identities for every branch: matching (plain claims and verified
// claims), another birth date, another name, and a person not in the register.
func Identities(ctx context.Context, st Persons) ([]sim.Identity, error) {
	var picked []store.Person
	var after store.PersonID
	for len(picked) < 2 {
		page, err := st.ListPersons(ctx, after, 200)
		if err != nil {
			return nil, err
		}
		if len(page) == 0 {
			break
		}
		for _, p := range page {
			after = p.ID
			if p.Relation == store.RelationMember && len(p.BirthDate) == len("2006-01-02") && len(picked) < 2 {
				picked = append(picked, p)
			}
		}
	}
	var out []sim.Identity
	for i, p := range picked {
		addr := sim.Address{Street: strings.TrimSpace(p.Street + " " + p.HouseNumber), PostalCode: p.PostalCode, City: p.City, Country: "DE"}
		who := fmt.Sprintf("%s %s (KVNR %s, PLZ %s, geb. %s)", p.GivenNames, p.FamilyName, p.KVNR, p.PostalCode, p.BirthDate)
		out = append(out, sim.Identity{Label: "Passt zum Register: " + who, FamilyName: p.FamilyName, GivenNames: p.GivenNames,
			BirthName: p.BirthName, BirthDate: p.BirthDate, Address: addr, Nationality: "DE", UseVerifiedClaims: i == 1})
		if i == 0 {
			out = append(out,
				sim.Identity{Label: "Anderes Geburtsdatum als im Register: " + who, FamilyName: p.FamilyName,
					GivenNames: p.GivenNames, BirthDate: otherBirthDate(p.BirthDate), Address: addr, Nationality: "DE"},
				sim.Identity{Label: "Anderer Name als im Register: " + who, FamilyName: "Mustermann",
					GivenNames: "Erika", BirthDate: p.BirthDate, Address: addr, Nationality: "DE"})
		}
	}
	out = append(out, sim.Identity{Label: "Unbekannte Person (nicht im Register)", FamilyName: "Gabler", GivenNames: "Theodor",
		BirthDate: "1959-07-30", Address: sim.Address{Street: "Am Mühlbach 3", PostalCode: "79098", City: "Freiburg im Breisgau", Country: "DE"},
		Nationality: "DE"})
	return out, nil
}

// otherBirthDate returns the date one year earlier.
func otherBirthDate(s string) string {
	d, err := registry.ParseBirthDate(s, time.Now())
	if err != nil {
		return "1950-01-01"
	}
	return strconv.Itoa(d.Year()-1) + s[4:]
}
