package main

import (
	"context"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/egk/testca"
	"github.com/pforte/pforte/internal/registry"
)

// runEGK is `pforte egk`: a test CA and software health cards from it, for
// tests and the demo. Nothing it makes is trusted by a node that is not
// configured with the test CA's certificate.
func runEGK(_ context.Context, env *environment, args []string) error {
	const synopsis = "egk test-ca --dir DIR | egk test-card --ca DIR --kvnr K --out FILE [--revoke]"
	if len(args) == 0 {
		return &usageError{msg: "usage: pforte " + synopsis}
	}
	switch args[0] {
	case "test-ca":
		fs := newFlagSet(env, "egk test-ca", "egk test-ca --dir DIR")
		dir := fs.String("dir", "", "directory for ca.json (key and certificate, 0600), ca.pem (egk.trust_anchors) and ca.crl (egk.crl_file)")
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		if *dir == "" {
			return &usageError{msg: "egk test-ca: --dir required"}
		}
		now := time.Now()
		ca, err := testca.New("Test eGK-CA TEST-ONLY", now.AddDate(0, 0, -1), now.AddDate(5, 0, 0))
		if err != nil {
			return err
		}
		if err := ca.Save(*dir); err != nil {
			return err
		}
		if err := writeTestCRL(ca, *dir, nil); err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "test CA in %s: egk.trust_anchors: [%s], egk.crl_file: %s (valid 30 days)\n", *dir,
			filepath.Join(*dir, "ca.pem"), filepath.Join(*dir, "ca.crl"))
		return nil
	case "test-card":
		fs := newFlagSet(env, "egk test-card", "egk test-card --ca DIR --kvnr K --out FILE [--revoke]")
		dir := fs.String("ca", "", "the test CA's directory (pforte egk test-ca)")
		kvnr := fs.String("kvnr", "", "the card's KVNR")
		out := fs.String("out", "", "software card file to write (0600), for pforte app activate --egk")
		revoke := fs.Bool("revoke", false, "also list the card in the test CA's ca.crl")
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		if *dir == "" || *out == "" || !registry.ValidKVNR(*kvnr) {
			return &usageError{msg: "egk test-card: --ca, --out and a valid --kvnr required"}
		}
		ca, err := testca.Load(*dir)
		if err != nil {
			return err
		}
		card, err := ca.Issue(testca.CardSpec{KVNR: *kvnr})
		if err != nil {
			return err
		}
		sc, err := card.Software()
		if err != nil {
			return err
		}
		b, err := sc.Marshal()
		if err != nil {
			return err
		}
		if err := appclient.WritePrivateFile(*out, b); err != nil {
			return err
		}
		if *revoke {
			if err := writeTestCRL(ca, *dir, []*big.Int{card.Serial}); err != nil {
				return err
			}
		}
		fmt.Fprintf(env.stdout, "test card for %s…%s in %s (serial %s)\n", (*kvnr)[:1], (*kvnr)[7:], *out, card.Serial.Text(16))
		return nil
	}
	return &usageError{msg: "usage: pforte " + synopsis}
}

// writeTestCRL writes DIR/ca.crl revoking revoked, valid 30 days.
func writeTestCRL(ca *testca.CA, dir string, revoked []*big.Int) error {
	now := time.Now()
	crl, err := ca.CRLPEM(revoked, now.Add(-time.Minute), now.AddDate(0, 0, 30))
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "ca.crl"), crl, 0o644)
}
