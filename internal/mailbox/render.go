package mailbox

import (
	"bytes"
	"html"
	"html/template"
	"net/url"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// The insurer writes its messages in a Markdown subset: paragraphs, line
// breaks, emphasis, lists, quotes, headings (shown from level 3 down, below
// the page's own), code, and links. The rendering keeps to three rules, and
// a strict allow-list sanitiser enforces them again on the HTML:
//
//   - no HTML of the author's: raw HTML is dropped by the Markdown parser and
//     by the sanitiser, so no script, style, form or frame can get through;
//   - no remote content: an image becomes its description in brackets, so no
//     message can make the browser fetch anything (a tracking pixel);
//   - links only to https addresses, each shown with its target after the
//     link text, so a link cannot pretend to go elsewhere; any other link
//     becomes its text.
//
// A person's own messages are plain text: escaped, with their line breaks.

var markdown = goldmark.New(goldmark.WithParserOptions(
	parser.WithASTTransformers(util.Prioritized(safeLinks{}, 100)),
))

// policy is the sanitiser's allow-list: the elements the Markdown subset
// makes and nothing else, links with https targets only.
var policy = func() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "strong", "em", "ul", "ol", "li", "blockquote", "code", "pre", "h3", "h4", "h5", "h6", "hr")
	p.AllowAttrs("start").Matching(bluemonday.Integer).OnElements("ol")
	p.AllowAttrs("href").OnElements("a")
	p.AllowURLSchemes("https")
	p.RequireParseableURLs(true)
	p.AllowRelativeURLs(false)
	p.RequireNoFollowOnLinks(true)
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(false)
	return p
}()

// RenderMarkdown turns an insurer's message text into safe HTML.
func RenderMarkdown(src string) template.HTML {
	var buf bytes.Buffer
	if err := markdown.Convert([]byte(src), &buf); err != nil {
		// goldmark fails only when writing to buf fails, which it does
		// not; show the text as plain text rather than nothing.
		return RenderPlain(src)
	}
	return template.HTML(policy.SanitizeBytes(buf.Bytes())) // #nosec: sanitised by the allow-list above
}

// RenderPlain turns a person's message text into HTML: escaped paragraphs
// with their line breaks, and nothing else.
func RenderPlain(src string) template.HTML {
	var b strings.Builder
	for _, para := range strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n\n") {
		para = strings.Trim(para, "\n")
		if para == "" {
			continue
		}
		b.WriteString("<p>")
		b.WriteString(strings.ReplaceAll(html.EscapeString(para), "\n", "<br>"))
		b.WriteString("</p>")
	}
	return template.HTML(b.String()) // #nosec: every character of the text is escaped
}

// httpsURL reports whether dest is an absolute https URL with a host.
func httpsURL(dest string) bool {
	u, err := url.Parse(dest)
	return err == nil && u.Scheme == "https" && u.Host != "" && u.User == nil
}

// safeLinks rewrites the Markdown tree: links keep only https targets and
// show them, images become text, headings move below the page's own.
type safeLinks struct{}

func (safeLinks) Transform(doc *ast.Document, reader text.Reader, _ parser.Context) {
	src := reader.Source()
	var links []ast.Node
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch v := n.(type) {
		case *ast.Heading:
			v.Level = min(max(v.Level+2, 3), 6)
		case *ast.Link, *ast.Image, *ast.AutoLink:
			links = append(links, n)
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	for _, n := range links {
		parent := n.Parent()
		if parent == nil {
			continue
		}
		switch v := n.(type) {
		case *ast.Link:
			dest := string(v.Destination)
			label := plainText(v, src)
			if !httpsURL(dest) {
				parent.ReplaceChild(parent, v, ast.NewString([]byte(label)))
				continue
			}
			v.Title = nil
			if label != dest {
				parent.InsertAfter(parent, v, ast.NewString([]byte(" ("+dest+")")))
			}
		case *ast.Image:
			alt := plainText(v, src)
			if alt == "" {
				alt = "Bild"
			}
			parent.ReplaceChild(parent, v, ast.NewString([]byte("["+alt+"]")))
		case *ast.AutoLink:
			dest := string(v.URL(src))
			if v.AutoLinkType != ast.AutoLinkURL || !httpsURL(dest) {
				parent.ReplaceChild(parent, v, ast.NewString([]byte(dest)))
			}
		}
	}
}

// plainText is the text inside n, without markup.
func plainText(n ast.Node, src []byte) string {
	var b strings.Builder
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch t := c.(type) {
		case *ast.Text:
			b.Write(t.Segment.Value(src))
			if t.SoftLineBreak() || t.HardLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(t.Value)
		}
		return ast.WalkContinue, nil
	})
	return b.String()
}
