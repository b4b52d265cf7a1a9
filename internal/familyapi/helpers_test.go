package familyapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/pforte/pforte/internal/lang"
	"github.com/pforte/pforte/internal/node"
	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/registry"
	"github.com/pforte/pforte/internal/session"
	"github.com/pforte/pforte/internal/store"
)

const staffToken = "staff-token-for-family-tests-0123456789"

// clock is the node's clock: real time moved by an offset a test sets.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// fixture is a node with a member (an account, a password), the member's
// family, a member of another family with a child, and an adult the
// member may be appointed for.
type fixture struct {
	n        *nodetest.Node
	clock    *clock
	mother   store.Person
	password string
	other    store.Person
	// young turns 15 tomorrow; fifteen turned 15 today; stranger is the
	// other member's young child; adult is nobody's dependent.
	young, fifteen, stranger, adult store.Person
}

var kvnrSeq = 0

// kvnr returns a valid KVNR no test register uses.
func kvnr(t *testing.T) string {
	t.Helper()
	kvnrSeq++
	prefix := fmt.Sprintf("Q%08d", 10000000+kvnrSeq)
	d, err := registry.KVNRCheckDigit(prefix)
	if err != nil {
		t.Fatal(err)
	}
	return prefix + string(d)
}

// birthDate is the birth date of someone who turns years on the German
// day today+days.
func birthDate(now time.Time, years, days int) string {
	return now.In(lang.Berlin).AddDate(-years, 0, days).Format("2006-01-02")
}

func start(t *testing.T, st store.Store) *fixture {
	t.Helper()
	c := &clock{}
	n := nodetest.Start(t, nodetest.Options{Store: st, Config: func(cfg *node.Config) {
		cfg.StaffToken = staffToken
		cfg.Now = c.Now
	}})
	in := n.Insure(t, 2)
	f := &fixture{n: n, clock: c, password: in.Password}
	// The generated register may make them dependents: here they are members.
	asMember := func(p store.Person) store.Person {
		got, err := n.Store.UpdatePerson(t.Context(), p.ID, func(p *store.Person) error {
			p.Relation, p.MemberKVNR = store.RelationMember, ""
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	f.mother, f.other = asMember(in.Persons[0]), asMember(in.Persons[1])
	now := c.Now()
	person := func(given, birth string, member store.Person) store.Person {
		p := store.Person{KVNR: kvnr(t), FamilyName: "Muster", GivenNames: given, BirthDate: birth, Street: "Alte Straße",
			HouseNumber: "1", PostalCode: "10115", City: "Berlin", Relation: store.RelationMember}
		if member.KVNR != "" {
			p.Relation, p.MemberKVNR = store.RelationDependent, member.KVNR
		}
		return n.Person(t, p)
	}
	f.young = person("Max", birthDate(now, 15, 1), f.mother)
	f.fifteen = person("Lena", birthDate(now, 15, 0), f.mother)
	f.stranger = person("Tom", birthDate(now, 8, 0), f.other)
	f.adult = person("Erika", "1940-05-01", store.Person{})
	return f
}

// token is a session of p at level, as a bearer token.
func (f *fixture) token(t *testing.T, p store.Person, level session.Level) string {
	t.Helper()
	origin := session.OriginPassword
	if level != session.LevelLow {
		origin = session.OriginDevice
	}
	tok, _, err := f.n.Sessions.Create(t.Context(), session.New{PersonID: p.ID, Kind: "app", Level: level, Origin: origin})
	if err != nil {
		t.Fatal(err)
	}
	return string(tok)
}

// call sends body as JSON and decodes a 2xx answer into out.
func (f *fixture) call(t *testing.T, method, path, token string, body, out any) (int, []byte) {
	t.Helper()
	code, raw := nodetest.CallAPI(t, method, f.n.URL+path, token, body)
	if code >= 500 {
		t.Errorf("%s %s = %d %s: no request may cause a 5xx", method, path, code, raw)
	}
	if out != nil && code < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, raw)
		}
	}
	return code, raw
}

type member struct {
	Handle     string   `json:"handle"`
	GivenNames string   `json:"given_names"`
	Basis      string   `json:"basis"`
	Actions    []string `json:"actions"`
	Refusal    string   `json:"refusal"`
}

type familyList struct {
	Members []member `json:"members"`
	Acts    []struct {
		By     string `json:"by"`
		Basis  string `json:"basis"`
		Action string `json:"action"`
	} `json:"acts_for_you"`
}

// handles lists the actor's family by given name.
func (f *fixture) handles(t *testing.T, token string) map[string]member {
	t.Helper()
	var l familyList
	if code, raw := f.call(t, "GET", "/api/v1/family", token, nil, &l); code != http.StatusOK {
		t.Fatalf("GET /api/v1/family = %d %s", code, raw)
	}
	out := map[string]member{}
	for _, m := range l.Members {
		out[m.GivenNames] = m
	}
	return out
}

// appoint records actor as representative of subject via the staff API.
func (f *fixture) appoint(t *testing.T, actor, subject store.Person, kind string, scope []string, lastDay string) int64 {
	t.Helper()
	var out struct {
		ID int64 `json:"id"`
	}
	code, raw := f.call(t, "POST", "/api/v1/staff/representations", staffToken, map[string]any{"actor_kvnr": actor.KVNR,
		"subject_kvnr": subject.KVNR, "kind": kind, "scope": scope, "valid_until": lastDay, "author": "meier"}, &out)
	if code != http.StatusCreated {
		t.Fatalf("appoint = %d %s", code, raw)
	}
	return out.ID
}

// unchanged fails unless p's stored record is as it was and nobody has a
// pending approval of an act on behalf.
func (f *fixture) unchanged(t *testing.T, p store.Person, approver store.Person) {
	t.Helper()
	got, err := f.n.Store.PersonByID(t.Context(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != p.Version || got.Street != p.Street {
		t.Errorf("%s changed: version %d → %d, street %q → %q", p.GivenNames, p.Version, got.Version, p.Street, got.Street)
	}
	pending, err := f.n.Store.PendingApprovals(t.Context(), approver.ID, f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 0 {
		t.Errorf("%d approvals pending, want none", len(pending))
	}
}

var newAddress = map[string]string{"street": "Neue Straße", "house_number": "7", "postal_code": "04109", "city": "Leipzig"}

func itoa(n int64) string { return fmt.Sprint(n) }
