package appapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/node"
	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/store"
)

// TestResetWhenTheIntakeIsFull: with the intake at its limit, a reset
// request is answered 503 requests_waiting with Retry-After and a German
// message, the same for an insured person's KVNR and an unknown one, and
// nothing is stored.
func TestResetWhenTheIntakeIsFull(t *testing.T) {
	n := nodetest.Start(t, nodetest.Options{Config: func(c *node.Config) {
		c.LoginRate, c.LoginBurst = 100, 100
		c.Access.MinTime = 10 * time.Millisecond
		c.Access.IntakeLimit = 1
	}})
	n.Person(t, store.Person{KVNR: kvnr, FamilyName: "Müller", GivenNames: "Jürgen", BirthDate: "1970-03-14",
		Street: "Hauptstraße", HouseNumber: "1", PostalCode: "10115", City: "Berlin"})
	// A request no key opens: the workers keep it (and try it again after
	// its lease), so the intake stays full for the test.
	if err := n.Store.AddIntake(t.Context(), store.Intake{ID: "stuck", Kind: "reset",
		Data: store.Sealed{KeyID: "gone", Ciphertext: []byte("x")}, CreatedAt: time.Now()}, 10); err != nil {
		t.Fatal(err)
	}
	body := `{"kvnr":"` + kvnr + `","postal_code":"10115","birth_date":"1970-03-14","method":"letter"}`
	known := call(t, "POST", n.URL+"/api/v1/password-resets", "", body)
	unknown := call(t, "POST", n.URL+"/api/v1/password-resets", "", strings.Replace(body, kvnr, "T555558879", 1))
	if known.status != http.StatusServiceUnavailable || known.body["error"] != "requests_waiting" ||
		known.header.Get("Retry-After") == "" || !strings.Contains(known.raw, "Bitte versuchen Sie es") {
		t.Errorf("reset with a full intake = %d %v %s", known.status, known.header.Get("Retry-After"), known.raw)
	}
	if known.status != unknown.status || known.raw != unknown.raw || known.header.Get("Retry-After") != unknown.header.Get("Retry-After") {
		t.Errorf("answers differ: %d %s / %d %s", known.status, known.raw, unknown.status, unknown.raw)
	}
	if left, err := n.Store.IntakeBacklog(t.Context()); err != nil || left != 1 {
		t.Errorf("backlog = %d, %v; want 1 (nothing stored)", left, err)
	}
}
