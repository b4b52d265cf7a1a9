package node_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/pforte/pforte/internal/assistantapi"
	"github.com/pforte/pforte/internal/node"
	"github.com/pforte/pforte/internal/node/nodetest"
	"github.com/pforte/pforte/internal/store/testdb"
)

// TestAssistantOnTheNode asks a whole node, on every backend, through its
// API and its question page: an answer with its entry, link and
// disclaimer, taken from the node's configuration; a question about the
// person's own case handed over to the telephone; a 100 KB question
// refused in German, never with a 5xx.
func TestAssistantOnTheNode(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			n := nodetest.Start(t, nodetest.Options{Store: b.Open(t), Config: func(c *node.Config) {
				c.Assistant.LetterDays = 8
			}})
			status, raw := nodetest.CallAPI(t, "POST", n.URL+"/api/v1/assistant", "", map[string]string{"question": "Wie lange dauert der Passwortbrief?"})
			var r assistantapi.Response
			if err := json.Unmarshal(raw, &r); status != http.StatusOK || err != nil {
				t.Fatalf("answer: %d %s", status, raw)
			}
			if r.Entry != "brief-dauer" || r.Link != "/zugang" || r.Handover != nil || !strings.Contains(r.Answer, "8 Werktagen") ||
				!strings.Contains(r.Disclaimer, "nicht rechtsverbindlich") || r.Confidence <= 0 {
				t.Errorf("answer = %+v", r)
			}

			status, raw = nodetest.CallAPI(t, "POST", n.URL+"/api/v1/assistant", "", map[string]string{"question": "Wie ist der Stand meines Antrags auf Erstattung?"})
			r = assistantapi.Response{}
			if err := json.Unmarshal(raw, &r); status != http.StatusOK || err != nil {
				t.Fatalf("own case: %d %s", status, raw)
			}
			if h := r.Handover; h == nil || h.Reason != "own_case" || h.Channel != "phone" || h.Phone != nodetest.Insurer.Phone ||
				h.OpeningHours != nodetest.Assistant.OpeningHours || !strings.Contains(r.Answer, nodetest.Insurer.Phone) || r.Entry != "" ||
				r.Disclaimer == "" || r.Conversation != "" {
				t.Errorf("own case = %+v %+v", r, h)
			}

			big := strings.Repeat("Passwort ", 100<<10/9)
			status, raw = nodetest.CallAPI(t, "POST", n.URL+"/api/v1/assistant", "", map[string]string{"question": big})
			var e struct{ Error, Message string }
			if err := json.Unmarshal(raw, &e); status != http.StatusRequestEntityTooLarge || err != nil || !strings.Contains(e.Message, "zu groß") {
				t.Errorf("100 KB question to the API: %d %.200s", status, raw)
			}
			status, body := postForm(t, n.Client(t), n.URL+assistantapi.PagePath, url.Values{"frage": {big}})
			if status != http.StatusRequestEntityTooLarge || !strings.Contains(body, "zu groß") || !strings.Contains(body, `lang="de"`) {
				t.Errorf("100 KB question to the page: %d %.300s", status, body)
			}

			status, body = postForm(t, n.Client(t), n.URL+assistantapi.PagePath, url.Values{"frage": {"Ich will mit einem Menschen reden"}})
			if status != http.StatusOK || !strings.Contains(body, nodetest.Insurer.Phone) || !strings.Contains(body, nodetest.Assistant.OpeningHours) ||
				!strings.Contains(body, "nicht rechtsverbindlich") || strings.Contains(body, "uebergabe") {
				t.Errorf("hand-over on the page: %d %s", status, body)
			}
		})
	}
}

// TestAssistantBudgetPerAddress: the page and the API draw on one budget
// of questions per client address.
func TestAssistantBudgetPerAddress(t *testing.T) {
	n := nodetest.Start(t, nodetest.Options{Config: func(c *node.Config) { c.AssistantRate, c.AssistantBurst = 0.001, 2 }})
	if status, raw := nodetest.CallAPI(t, "POST", n.URL+"/api/v1/assistant", "", map[string]string{"question": "PIN vergessen"}); status != http.StatusOK {
		t.Fatalf("first: %d %s", status, raw)
	}
	if status, body := postForm(t, n.Client(t), n.URL+assistantapi.PagePath, url.Values{"frage": {"PIN vergessen"}}); status != http.StatusOK {
		t.Fatalf("second: %d %s", status, body)
	}
	status, raw := nodetest.CallAPI(t, "POST", n.URL+"/api/v1/assistant", "", map[string]string{"question": "PIN vergessen"})
	if status != http.StatusTooManyRequests || !strings.Contains(string(raw), "warten") {
		t.Errorf("third: %d %s", status, raw)
	}
}

func postForm(t *testing.T, c *http.Client, u string, v url.Values) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, u, strings.NewReader(v.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}
