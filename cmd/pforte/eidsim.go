package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"strings"

	"github.com/pforte/pforte/internal/config"
	"github.com/pforte/pforte/internal/demo"
	"github.com/pforte/pforte/internal/eid/sim"
	"github.com/pforte/pforte/internal/store/sqlstore"
)

// simClientID is the client id the portal uses at the simulator.
const simClientID = "pforte-portal"

// startSimulator starts the eID simulator on ln with test identities built from
// the register and returns the eID configuration that points the portal at it.
// It is a development tool: only `pforte demo` and `serve --eid-simulator-insecure`
// call it.
func startSimulator(ctx context.Context, st *sqlstore.Store, ln net.Listener, portal string, logger *slog.Logger) (config.Config, []sim.Identity, error) {
	var secret [16]byte
	if _, err := rand.Read(secret[:]); err != nil {
		return config.Config{}, nil, err
	}
	issuer := "http://" + ln.Addr().String()
	idents, err := demo.Identities(ctx, st)
	if err != nil {
		return config.Config{}, nil, err
	}
	s, err := sim.New(sim.Config{Insecure: true, Issuer: issuer,
		Clients:    []sim.Client{{ID: simClientID, Secret: hex.EncodeToString(secret[:]), RedirectURIs: []string{strings.TrimRight(portal, "/") + "/eid/rueckkehr"}}},
		Identities: idents, Logger: logger})
	if err != nil {
		return config.Config{}, nil, err
	}
	go func() {
		if err := s.Serve(ctx, ln); err != nil {
			logger.Error("eid simulator stopped", slog.Any("error", err))
		}
	}()
	var cfg config.Config
	cfg.EID.Issuer, cfg.EID.ClientID, cfg.EID.ClientSecret = issuer, simClientID, hex.EncodeToString(secret[:])
	return cfg, idents, nil
}
