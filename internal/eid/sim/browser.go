package sim

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

var (
	formRE   = regexp.MustCompile(`(?s)<form method="post" action="([^"]*)">(.*?)</form>`)
	hiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
)

// Choice picks a form of the page.
type Choice struct {
	Identity int  // the identity's index
	Cancel   bool // "Abbrechen" instead
}

// Form is one form of the page: where it posts and its hidden fields.
type Form struct {
	Action string
	Values url.Values
}

// Forms returns the forms of the simulator's page.
func Forms(page string) []Form {
	var out []Form
	for _, m := range formRE.FindAllStringSubmatch(page, -1) {
		f := Form{Action: html.UnescapeString(m[1]), Values: url.Values{}}
		for _, in := range hiddenRE.FindAllStringSubmatch(m[2], -1) {
			f.Values.Add(html.UnescapeString(in[1]), html.UnescapeString(in[2]))
		}
		out = append(out, f)
	}
	return out
}

// Browser drives the simulator's page the way a browser would, for tests of the
// simulator and of the code that speaks to it, and for smoke checks of a demo.
// It follows the flow with an HTTP client that does not follow redirects, so
// the answer for the relying party can be inspected. It reads the page with
// regular expressions, which is enough for the simulator's own markup and
// nothing else.
type Browser struct {
	Client *http.Client // its CheckRedirect is replaced
}

// Get fetches u and returns the answer with its body read.
func (b *Browser) Get(ctx context.Context, u string) (*http.Response, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "", err
	}
	return b.do(req)
}

// Post posts the form values to u and returns the answer with its body read.
func (b *Browser) Post(ctx context.Context, u string, values url.Values) (*http.Response, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(values.Encode()))
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func (b *Browser) do(req *http.Request) (*http.Response, string, error) {
	c := *b.Client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp, string(body), err
}

// Authorize opens authURL, makes the choice on the page and returns where the
// simulator sends the browser back to.
func (b *Browser) Authorize(ctx context.Context, authURL string, choice Choice) (*url.URL, error) {
	resp, page, err := b.Get(ctx, authURL)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("sim: browser: authorize page: status %d", resp.StatusCode)
	}
	form, err := Pick(page, choice)
	if err != nil {
		return nil, err
	}
	action, err := resp.Request.URL.Parse(form.Action)
	if err != nil {
		return nil, err
	}
	resp, _, err = b.Post(ctx, action.String(), form.Values)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusSeeOther {
		return nil, fmt.Errorf("sim: browser: choice: status %d", resp.StatusCode)
	}
	return resp.Location()
}

// Pick returns the form of page for choice.
func Pick(page string, choice Choice) (Form, error) {
	for _, f := range Forms(page) {
		if choice.Cancel && f.Values.Has("cancel") ||
			!choice.Cancel && f.Values.Has("identity") && f.Values.Get("identity") == fmt.Sprint(choice.Identity) {
			return f, nil
		}
	}
	return Form{}, errors.New("sim: browser: the page has no form for the choice")
}
