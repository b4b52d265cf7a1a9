package appapi_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/node"
	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
	"github.com/pforte/pforte/internal/store/testdb"
)

const egkPassword = "Kastanienbaum im Herbstwind"

// cardNode starts a node on st that trusts a test eGK CA (OCSP responder
// and CRL), with Jürgen Müller registered and his password set.
func cardNode(t *testing.T, st store.Store) (*nodetest.Node, *nodetest.Cards, store.Person) {
	t.Helper()
	cards := nodetest.NewCards(t)
	n := nodetest.Start(t, nodetest.Options{Store: st, Config: func(c *node.Config) { cards.Configure(c) }})
	p := n.Person(t, store.Person{KVNR: kvnr, FamilyName: "Müller", GivenNames: "Jürgen", BirthDate: "1970-03-14",
		Street: "Hauptstraße", HouseNumber: "1", PostalCode: "10115", City: "Berlin"})
	n.GivePassword(t, p, egkPassword)
	return n, cards, p
}

func cheapPhone(t *testing.T) *appclient.Device {
	t.Helper()
	d, err := appclient.NewDevice(nil)
	if err != nil {
		t.Fatal(err)
	}
	d.KDF = nodetest.CheapKDF
	return d
}

// TestEGKEndToEnd binds a phone with the card on a node (HTTP, OCSP, CRL)
// on every backend, then locks its PIN and unlocks it with the card.
func TestEGKEndToEnd(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		n, cards, p := cardNode(t, st)
		app := n.App()
		card, _ := cards.Card(t, kvnr)
		tok, err := app.PasswordLogin(t.Context(), kvnr, egkPassword)
		if err != nil {
			t.Fatal(err)
		}
		phone := cheapPhone(t)
		asked := cards.Asked()
		id, level, s, err := app.BindWithCard(t.Context(), phone, card, "482915", "Telefon von Jürgen", "Pixel 8", tok, "")
		if err != nil {
			t.Fatalf("BindWithCard: %v", err)
		}
		if level != "high" || s.Level != "high" || id == "" || cards.Asked() != asked+1 {
			t.Errorf("bound %s at %s, session %v; OCSP asked %d times", id, level, s, cards.Asked()-asked)
		}
		if got, err := n.Sessions.Authenticate(t.Context(), session.Token(s.Token)); err != nil || got.Origin != "egk" {
			t.Errorf("the binding's session: origin %q, %v; want egk", got.Origin, err)
		}
		list, err := app.Devices(t.Context(), s.Token)
		if err != nil || len(list) != 1 || list[0].Level != "high" {
			t.Errorf("devices with the card's session: %+v, %v", list, err)
		}
		// The notice letter goes out.
		n.Letters.Wait(t, 1)

		// Lock the PIN, then unlock it with the card.
		for range 3 {
			app.Login(t.Context(), phone, "111122", "pin")
		}
		if _, err := app.Login(t.Context(), phone, "482915", "pin"); !appclient.IsPINLocked(err) {
			t.Fatalf("after three wrong PINs: %v", err)
		}
		other, _ := cards.Card(t, "T555558879")
		var api *appclient.APIError
		if err := app.UnlockWithCard(t.Context(), phone, other, "604152", "Telefon von Jürgen", "Pixel 8"); !errors.As(err, &api) || api.Code != "card_not_yours" || api.Status != http.StatusForbidden {
			t.Fatalf("unlock with another person's card: %v", err)
		}
		if err := app.UnlockWithCard(t.Context(), phone, card, "604152", "Telefon von Jürgen", "Pixel 8"); err != nil {
			t.Fatalf("UnlockWithCard: %v", err)
		}
		if _, err := app.Login(t.Context(), phone, "604152", "pin"); err != nil {
			t.Errorf("login with the new PIN: %v", err)
		}
		devs, err := n.Store.PersonDevices(t.Context(), p.ID)
		if err != nil || len(devs) != 1 {
			t.Errorf("devices after the unlock: %d, %v", len(devs), err)
		}
	})
}

// TestEGKRefusalsOverHTTP: revoked by OCSP, revoked by the CRL, another
// KVNR, a replayed challenge: each a clear 4xx with its code, and nothing
// bound.
func TestEGKRefusalsOverHTTP(t *testing.T) {
	n, cards, p := cardNode(t, testdb.Open(t))
	app := n.App()
	tok, err := app.PasswordLogin(t.Context(), kvnr, egkPassword)
	if err != nil {
		t.Fatal(err)
	}
	byOCSP, serial := cards.Card(t, kvnr)
	cards.RevokeOCSP(serial)
	byCRL, serial2 := cards.Card(t, kvnr)
	cards.RevokeCRL(t, serial2)
	other, _ := cards.Card(t, "T555558879")
	for _, c := range []struct {
		name         string
		card         appclient.Card
		status       int
		code, reason string
	}{
		{"revoked by OCSP", byOCSP, http.StatusUnprocessableEntity, "card_refused", "revoked"},
		{"revoked by the CRL", byCRL, http.StatusUnprocessableEntity, "card_refused", "revoked"},
		{"another KVNR", other, http.StatusForbidden, "card_not_yours", ""},
	} {
		_, _, _, err := app.BindWithCard(t.Context(), cheapPhone(t), c.card, "482915", "Telefon", "", tok, "")
		var api *appclient.APIError
		if !errors.As(err, &api) || api.Status != c.status || api.Code != c.code || api.Message == "" {
			t.Errorf("%s: %v, want %d %s", c.name, err, c.status, c.code)
		}
	}
	// The reason travels in the JSON answer.
	phone := cheapPhone(t)
	ch, err := app.Challenge(t.Context(), appclient.PurposeBindEGK, "")
	if err != nil {
		t.Fatal(err)
	}
	pair, err := phone.SignPairing("482915", "Telefon", "", ch, byOCSP)
	if err != nil {
		t.Fatal(err)
	}
	body := map[string]string{"device_key": appclient.B64(pair.DevicePublicKey), "pin_key": appclient.B64(pair.PINPublicKey),
		"kdf": string(pair.KDF), "name": pair.Name, "model": pair.Model, "challenge_id": ch.ID,
		"device_signature": appclient.B64(pair.Proof.DeviceSignature), "pin_signature": appclient.B64(pair.Proof.PINSignature),
		"card_certificate": appclient.B64(pair.CardCertificate), "statement": appclient.B64(pair.Statement),
		"card_signature": appclient.B64(pair.CardSignature)}
	status, raw := nodetest.CallAPI(t, "POST", n.URL+"/api/v1/devices/egk", tok, body)
	var answer struct{ Error, Reason string }
	json.Unmarshal(raw, &answer)
	if status != http.StatusUnprocessableEntity || answer.Error != "card_refused" || answer.Reason != "revoked" {
		t.Errorf("revoked card: %d %s", status, raw)
	}
	// A good card with the same challenge still works: the refusal did not
	// use it up. Its replay then is refused.
	good, _ := cards.Card(t, kvnr)
	pair, err = phone.SignPairing("482915", "Telefon", "", ch, good)
	if err != nil {
		t.Fatal(err)
	}
	body["card_certificate"], body["statement"], body["card_signature"] = appclient.B64(pair.CardCertificate), appclient.B64(pair.Statement), appclient.B64(pair.CardSignature)
	body["device_signature"], body["pin_signature"] = appclient.B64(pair.Proof.DeviceSignature), appclient.B64(pair.Proof.PINSignature)
	if status, raw := nodetest.CallAPI(t, "POST", n.URL+"/api/v1/devices/egk", tok, body); status != http.StatusCreated {
		t.Fatalf("good card after a refusal on the same challenge: %d %s", status, raw)
	}
	if status, raw := nodetest.CallAPI(t, "POST", n.URL+"/api/v1/devices/egk", tok, body); status != http.StatusUnauthorized {
		t.Errorf("replayed challenge: %d %s", status, raw)
	}
	devs, err := n.Store.PersonDevices(t.Context(), p.ID)
	if err != nil || len(devs) != 1 {
		t.Errorf("%d devices, want the one good binding: %v", len(devs), err)
	}
}

func TestEGKOffWithoutTrustAnchors(t *testing.T) {
	n := nodetest.Start(t, nodetest.Options{})
	status, raw := nodetest.CallAPI(t, "POST", n.URL+"/api/v1/devices/egk", "", map[string]string{"name": "x"})
	var answer struct{ Error string }
	json.Unmarshal(raw, &answer)
	if status != http.StatusBadRequest || answer.Error != "egk_unavailable" {
		t.Errorf("without trust anchors: %d %s", status, raw)
	}
}

// BenchmarkEGKBinding measures the whole binding over HTTP on a node
// (challenge, pairing signed by the software card, certificate chain,
// statement, OCSP on loopback, CRL, the binding's transaction, the session)
// and reports its latency; each iteration binds a new phone to a new person.
func BenchmarkEGKBinding(b *testing.B) {
	cards := nodetest.NewCards(b)
	n := nodetest.Start(b, nodetest.Options{Config: func(c *node.Config) { cards.Configure(c) }})
	ins := n.Insure(b, b.N)
	app := n.App()
	var total time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		person := ins.Persons[i]
		card, _ := cards.Card(b, person.KVNR)
		phone, err := appclient.NewDevice(nil)
		if err != nil {
			b.Fatal(err)
		}
		phone.KDF = nodetest.CheapKDF
		tok, err := app.PasswordLogin(b.Context(), person.KVNR, ins.Password)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		if _, _, _, err := app.BindWithCard(b.Context(), phone, card, "482915", "Telefon", "", tok, ""); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
	}
	b.ReportMetric(float64(total.Microseconds())/float64(b.N)/1000, "ms/binding")
}
