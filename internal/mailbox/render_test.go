package mailbox_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/pforte/pforte/internal/mailbox"
)

// TestRenderMarkdownCorpus: what a message may contain and what the page
// gets of it. Every case names a string the HTML must hold and strings it
// must never hold.
func TestRenderMarkdownCorpus(t *testing.T) {
	tests := []struct {
		name   string
		src    string
		want   []string
		banned []string
	}{
		{"emphasis and list", "**Wichtig**: bitte *bald*\n\n- eins\n- zwei", []string{"<strong>Wichtig</strong>", "<em>bald</em>", "<li>eins</li>"}, nil},
		{"https link shows its target", "[Formular](https://kasse.example/formular)",
			[]string{`<a href="https://kasse.example/formular" rel="nofollow noreferrer">Formular</a> (https://kasse.example/formular)`}, nil},
		{"link text that is its target is not repeated", "[https://kasse.example/](https://kasse.example/)",
			[]string{`>https://kasse.example/</a>`}, []string{"(https://kasse.example/)"}},
		{"http link becomes text", "[Bank](http://evil.example/)", []string{"Bank"}, []string{"<a", "evil.example"}},
		{"javascript link becomes text", "[klick](javascript:alert(1))", []string{"klick"}, []string{"<a", "javascript"}},
		{"data link becomes text", "[x](data:text/html;base64,PHNjcmlwdD4=)", []string{"x"}, []string{"<a", "data:"}},
		{"link with user info becomes text", "[Kasse](https://kasse.example@evil.example/)", []string{"Kasse"}, []string{"<a", "evil"}},
		{"remote image becomes its description", "![Logo](https://tracker.example/p.gif)", []string{"[Logo]"}, []string{"<img", "tracker"}},
		{"image without description", "![](https://tracker.example/p.gif)", []string{"[Bild]"}, []string{"<img", "tracker"}},
		{"raw script", "<script>alert(1)</script>", nil, []string{"<script", "alert(1)</script"}},
		{"inline html", "Hallo <img src=x onerror=alert(1)> <b>fett</b>", []string{"Hallo"}, []string{"<img", "onerror", "<b>"}},
		{"html block", "<div style=\"x\">\n<iframe src=\"https://a.example\"></iframe>\n</div>", nil, []string{"<div", "<iframe", "style"}},
		{"autolink https", "<https://kasse.example/a>", []string{`<a href="https://kasse.example/a" rel="nofollow noreferrer">https://kasse.example/a</a>`}, nil},
		{"autolink mail becomes text", "<info@kasse.example>", []string{"info@kasse.example"}, []string{"<a", "mailto"}},
		{"heading below the page's", "# Titel", []string{"<h3>Titel</h3>"}, []string{"<h1"}},
		{"escaped text", "1 < 2 & \"x\"", []string{"1 &lt; 2 &amp; &#34;x&#34;"}, nil},
		{"link title dropped", `[a](https://k.example/ "<b>t</b>")`, []string{`href="https://k.example/"`}, []string{"title", "<b>"}},
		{"entity link", "[x](&#106;avascript:alert(1))", []string{"x"}, []string{"<a", "avascript"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(mailbox.RenderMarkdown(tt.src))
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("RenderMarkdown(%q) = %q, want it to contain %q", tt.src, got, w)
				}
			}
			for _, b := range tt.banned {
				if strings.Contains(got, b) {
					t.Errorf("RenderMarkdown(%q) = %q, must not contain %q", tt.src, got, b)
				}
			}
		})
	}
}

func TestRenderPlain(t *testing.T) {
	got := string(mailbox.RenderPlain("Hallo <b>x</b>\nZeile 2\n\n[a](https://x.example)"))
	want := "<p>Hallo &lt;b&gt;x&lt;/b&gt;<br>Zeile 2</p><p>[a](https://x.example)</p>"
	if got != want {
		t.Errorf("RenderPlain = %q, want %q", got, want)
	}
}

var eventAttr = regexp.MustCompile(`<[a-z0-9]+[^>]*\son[a-z]+\s*=`)

// FuzzRenderMarkdown: whatever the text, the HTML has no script, no
// element outside the allow-list's and no link other than https.
func FuzzRenderMarkdown(f *testing.F) {
	for _, s := range []string{"[a](https://x.example)", "<script>x</script>", "![i](https://x/y.png)", "**b** _i_", "<a href=javascript:x>y</a>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		got := strings.ToLower(string(mailbox.RenderMarkdown(src)))
		for _, b := range []string{"<script", "<img", "<iframe", "<style", "<form", "<input", "<svg", "<object"} {
			if strings.Contains(got, b) {
				t.Fatalf("RenderMarkdown(%q) = %q holds %q", src, got, b)
			}
		}
		if eventAttr.MatchString(got) {
			t.Fatalf("RenderMarkdown(%q) = %q holds an event attribute", src, got)
		}
		for rest := got; ; {
			i := strings.Index(rest, "href=\"")
			if i < 0 {
				break
			}
			rest = rest[i+6:]
			if !strings.HasPrefix(rest, "https://") {
				t.Fatalf("RenderMarkdown(%q) = %q links elsewhere than https", src, got)
			}
		}
	})
}
