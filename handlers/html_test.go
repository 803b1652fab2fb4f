package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/wcms-lab/wcms/handlers"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Helpers for the HTML pages: requests as a signed-in browser and htmx send them, and the
// elements of the parsed answer.

// hostile is text that must never become markup on a page.
const hostile = `<script>alert(1)</script>`

const formType = "application/x-www-form-urlencoded"

// sendForm sends vals urlencoded (no body when nil) from a's browser, with header.
func (a *admin) sendForm(method, path string, vals url.Values, header ...string) response {
	a.ts.t.Helper()
	var body any
	if vals != nil {
		body = vals.Encode()
	}
	return a.ts.do(a.client, method, path, body, append([]string{"Content-Type", formType}, header...)...)
}

// form sends vals as a's pages do: with the CSRF header, and as htmx when hx.
func (a *admin) form(method, path string, vals url.Values, hx bool) response {
	a.ts.t.Helper()
	header := []string{handlers.CSRFHeader, a.csrf}
	if hx {
		header = append(header, "HX-Request", "true")
	}
	return a.sendForm(method, path, vals, header...)
}

// htmx sends a request without a body as htmx does from a's page: HX-Request and the CSRF header.
func (a *admin) htmx(method, path string) response {
	a.ts.t.Helper()
	return a.ts.do(a.client, method, path, nil, handlers.CSRFHeader, a.csrf, "HX-Request", "true")
}

// page loads path in a's browser, as htmx when hx.
func (a *admin) page(path string, hx bool) response {
	a.ts.t.Helper()
	if hx {
		return a.ts.do(a.client, http.MethodGet, path, nil, "HX-Request", "true")
	}
	return a.ts.do(a.client, http.MethodGet, path, nil)
}

// isFragment tells an htmx fragment from a whole page.
func isFragment(r response) bool { return !strings.Contains(r.Raw, "<html") }

// htmlDoc parses an HTML answer.
func htmlDoc(t testing.TB, r response) *html.Node {
	t.Helper()
	return parseHTML(t, r.Raw)
}

func parseHTML(t testing.TB, s string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(s))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return doc
}

// findAll returns every element under n for which match is true, in page order.
func findAll(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && match(d) {
			out = append(out, d)
		}
	}
	return out
}

// byTestIDAll returns every element under n with the data-testid.
func byTestIDAll(n *html.Node, testid string) []*html.Node {
	return findAll(n, func(e *html.Node) bool { return attr(e, "data-testid") == testid })
}

// byTestID returns the one element under n with the data-testid.
func byTestID(t testing.TB, n *html.Node, testid string) *html.Node {
	t.Helper()
	found := byTestIDAll(n, testid)
	if len(found) != 1 {
		t.Fatalf("data-testid=%q: %d elements, want 1", testid, len(found))
	}
	return found[0]
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// textOf is n's text with runs of white space collapsed.
func textOf(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// textsOf is the text of every element with the data-testid, in page order.
func textsOf(n *html.Node, testid string) []string {
	var out []string
	for _, e := range byTestIDAll(n, testid) {
		out = append(out, textOf(e))
	}
	return out
}

// noInlineScript fails when hostile text became a script element.
func noInlineScript(t testing.TB, doc *html.Node) {
	t.Helper()
	for _, s := range findAll(doc, func(n *html.Node) bool { return n.DataAtom == atom.Script }) {
		if !strings.HasPrefix(attr(s, "src"), "/static/") || s.FirstChild != nil {
			t.Errorf("a script that is not a static file: %q", attr(s, "src"))
		}
	}
}
