package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/pforte/pforte/internal/eid/sim"
	"github.com/pforte/pforte/internal/registry"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/sqlstore"
)

// simClientID is the client id the portal uses at the simulator.
const simClientID = "pforte-portal"

// startSimulator starts the eID simulator on ln with test identities built from
// the register and returns the eID configuration that points the portal at it.
// It is a development tool: only `pforte demo` and `serve --eid-simulator-insecure`
// call it.
func startSimulator(ctx context.Context, st *sqlstore.Store, ln net.Listener, portal string, logger *slog.Logger) (Config, []sim.Identity, error) {
	var secret [16]byte
	if _, err := rand.Read(secret[:]); err != nil {
		return Config{}, nil, err
	}
	issuer := "http://" + ln.Addr().String()
	idents, err := simIdentities(ctx, st)
	if err != nil {
		return Config{}, nil, err
	}
	s, err := sim.New(sim.Config{Insecure: true, Issuer: issuer,
		Clients:    []sim.Client{{ID: simClientID, Secret: hex.EncodeToString(secret[:]), RedirectURIs: []string{strings.TrimRight(portal, "/") + "/eid/rueckkehr"}}},
		Identities: idents, Logger: logger})
	if err != nil {
		return Config{}, nil, err
	}
	go func() {
		if err := s.Serve(ctx, ln); err != nil {
			logger.Error("eid simulator stopped", slog.Any("error", err))
		}
	}()
	var cfg Config
	cfg.EID.Issuer, cfg.EID.ClientID, cfg.EID.ClientSecret = issuer, simClientID, hex.EncodeToString(secret[:])
	return cfg, idents, nil
}

// simIdentities picks adult members with full birth dates from the register and
// derives identities for every branch: matching (plain claims and verified
// claims), another birth date, another name, and a person not in the register.
func simIdentities(ctx context.Context, st *sqlstore.Store) ([]sim.Identity, error) {
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
