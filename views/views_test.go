package views_test

import (
	"bytes"
	"context"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/a-h/templ"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/wcms-lab/wcms/views"
)

const hostile = `<script>alert(1)</script>`

// inEnglish renders in English; a plain context renders in Korean.
var inEnglish = views.WithLang(context.Background(), views.English)

// render renders c and parses the result as an HTML document.
func render(t *testing.T, c templ.Component) *html.Node {
	t.Helper()
	return renderCtx(t, context.Background(), c)
}

func renderCtx(t *testing.T, ctx context.Context, c templ.Component) *html.Node {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(ctx, &buf); err != nil {
		t.Fatalf("render: %v", err)
	}
	doc, err := html.Parse(&buf)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return doc
}

// findAll returns every element below n for which match is true, in document order.
func findAll(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && match(d) {
			out = append(out, d)
		}
	}
	return out
}

// byTestID returns the one element with the given data-testid, failing the
// test when there is none or more than one.
func byTestID(t *testing.T, doc *html.Node, id string) *html.Node {
	t.Helper()
	found := byTestIDAll(doc, id)
	if len(found) != 1 {
		t.Fatalf("data-testid=%q: found %d elements, want 1", id, len(found))
	}
	return found[0]
}

// noInlineScript fails when a page has a script other than a same-origin file: hostile text
// must never become code.
func noInlineScript(t *testing.T, doc *html.Node) {
	t.Helper()
	for _, sc := range byAtom(doc, atom.Script) {
		if src := attr(sc, "src"); !strings.HasPrefix(src, "/static/") || sc.FirstChild != nil {
			t.Errorf("<script src=%q> (content: %v): only same-origin files, never inline code", src, sc.FirstChild != nil)
		}
	}
}

// checkCSP fails on what the server's Content-Security-Policy (default-src 'self') would block
// or hostile text could turn into: inline code or style, event attributes, javascript: URLs;
// and on duplicate ids, which tests and htmx targets rely on.
func checkCSP(t *testing.T, doc *html.Node) {
	t.Helper()
	noInlineScript(t, doc)
	if n := len(byAtom(doc, atom.Style)); n != 0 {
		t.Errorf("found %d <style> elements, want none", n)
	}
	seen := map[string]bool{}
	for _, n := range findAll(doc, func(*html.Node) bool { return true }) {
		for _, a := range n.Attr {
			if a.Key == "style" || strings.HasPrefix(a.Key, "on") {
				t.Errorf("<%s> has inline attribute %s", n.Data, a.Key)
			}
			if (a.Key == "href" || a.Key == "hx-get") && strings.HasPrefix(strings.ToLower(a.Val), "javascript:") {
				t.Errorf("<%s> has a javascript: URL", n.Data)
			}
		}
		if hasAttr(n, "id") {
			id := attr(n, "id")
			if seen[id] {
				t.Errorf("duplicate id %q", id)
			}
			seen[id] = true
		}
	}
}

// byTestIDAll returns every element under n with the given data-testid.
func byTestIDAll(n *html.Node, id string) []*html.Node {
	return findAll(n, func(n *html.Node) bool { return attr(n, "data-testid") == id })
}

// hasTestID tells whether any element carries the given data-testid.
func hasTestID(doc *html.Node, id string) bool {
	return len(byTestIDAll(doc, id)) > 0
}

func byAtom(doc *html.Node, a atom.Atom) []*html.Node {
	return findAll(doc, func(n *html.Node) bool { return n.DataAtom == a })
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

// text is the text content of n with runs of white space collapsed.
func text(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// fieldNames returns the names of the named inputs, selects and text areas under n, in order.
func fieldNames(n *html.Node) []string {
	var names []string
	for _, e := range findAll(n, func(e *html.Node) bool {
		return hasAttr(e, "name") && (e.DataAtom == atom.Input || e.DataAtom == atom.Select || e.DataAtom == atom.Textarea)
	}) {
		names = append(names, attr(e, "name"))
	}
	return names
}

// optionValues returns the values of the options under n, in order.
func optionValues(n *html.Node) []string {
	var values []string
	for _, o := range byAtom(n, atom.Option) {
		values = append(values, attr(o, "value"))
	}
	return values
}

// inputNamed returns the one input named name inside form.
func inputNamed(t *testing.T, form *html.Node, name string) *html.Node {
	t.Helper()
	found := findAll(form, func(n *html.Node) bool { return n.DataAtom == atom.Input && attr(n, "name") == name })
	if len(found) != 1 {
		t.Fatalf("input name=%q: found %d, want 1", name, len(found))
	}
	return found[0]
}

// pages is one of each full page, with hostile text wherever text can go.
func pages() map[string]templ.Component {
	return map[string]templ.Component{
		"login":    views.LoginPage(views.LoginData{Username: hostile, Error: hostile}),
		"room":     views.RoomPage(hostileRoom()),
		"pc":       views.PCDetailPage(hostilePC("operator")),
		"password": views.PasswordPage(views.PasswordView{Page: adminFrame("viewer", ""), Forced: true, Error: hostile}),
		"accounts": views.AccountsPage(views.AccountsView{Page: adminFrame("admin", "accounts"), Notice: hostile, Accounts: []views.Account{{Username: hostile, Role: "viewer", MustChange: true}}}),
		"pins":     views.PINsPage(views.PINsView{Page: adminFrame("operator", "pins"), PINs: []views.PIN{{Token: "123456", CreatedBy: hostile}}, Created: &views.PIN{Token: "123456"}, Install: []views.InstallCommand{{ID: "linux", System: "Linux", Line: hostile}}}),
		"layout":   views.LayoutPage(hostileLayout()),
		"agents":   views.AgentsPage(agentsView("admin")),
		"log":      views.LogPage(logView(views.LogCommands)),
		"wall":     views.WallPage(views.WallView{Room: hostile, Rows: hostileRoom().Rows, StreamURL: "/wall/x/stream?token=t"}),
		"error":    views.ErrorPage(500, hostile),
	}
}

// TestPagesFollowTheLayout checks every page against what the layout and the
// server's CSP (default-src 'self') require.
func TestPagesFollowTheLayout(t *testing.T) {
	for name, page := range pages() {
		t.Run(name, func(t *testing.T) {
			doc := render(t, page)

			htmlEls := byAtom(doc, atom.Html)
			if len(htmlEls) != 1 || attr(htmlEls[0], "lang") != "ko" {
				t.Errorf("want one <html lang=\"ko\">")
			}
			if doc.FirstChild == nil || doc.FirstChild.Type != html.DoctypeNode {
				t.Errorf("document does not start with a doctype")
			}
			viewport := findAll(doc, func(n *html.Node) bool {
				return n.DataAtom == atom.Meta && attr(n, "name") == "viewport"
			})
			if len(viewport) != 1 || !strings.Contains(attr(viewport[0], "content"), "width=device-width") {
				t.Errorf("want one meta viewport with width=device-width")
			}
			sheets := findAll(doc, func(n *html.Node) bool {
				return n.DataAtom == atom.Link && attr(n, "rel") == "stylesheet"
			})
			if len(sheets) != 2 || attr(sheets[0], "href") != "/static/fonts.css" || attr(sheets[1], "href") != "/static/app.css" {
				t.Errorf("want the stylesheet links /static/fonts.css and /static/app.css")
			}
			if titles := byAtom(doc, atom.Title); len(titles) != 1 || text(titles[0]) == "" {
				t.Errorf("want one non-empty <title>")
			}

			// Live pages: each stream has one receiver, which swaps nothing itself (its batches
			// place fragments by id), and nothing else listens to the stream.
			for _, conn := range findAll(doc, func(n *html.Node) bool { return hasAttr(n, "sse-connect") }) {
				recv := findAll(conn, func(n *html.Node) bool { return hasAttr(n, "sse-swap") })
				if len(recv) != 1 || attr(recv[0], "sse-swap") != views.LiveEvent || attr(recv[0], "hx-swap") != "none" ||
					len(findAll(conn, func(n *html.Node) bool { return attr(n, "id") == "layout-changed" })) != 1 {
					t.Errorf("stream %q: want one sse-swap=%q hx-swap=none receiver and a layout notice place", attr(conn, "sse-connect"), views.LiveEvent)
				}
			}
			if n := len(findAll(doc, func(n *html.Node) bool { return hasAttr(n, "sse-swap") })); n > 1 {
				t.Errorf("%d sse-swap elements, want at most the one receiver", n)
			}

			// CSP: no inline code or style anywhere, the hostile text never
			// became markup, and ids are unique.
			checkCSP(t, doc)
		})
	}
}

func TestLayoutRendersTitleAndChildren(t *testing.T) {
	child := templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		_, err := io.WriteString(w, `<p data-testid="child">inside</p>`)
		return err
	})
	ctx := templ.WithChildren(context.Background(), child)
	doc := renderCtx(t, ctx, views.Layout(hostile))

	if got := text(byTestID(t, doc, "child")); got != "inside" {
		t.Errorf("child text = %q, want %q", got, "inside")
	}
	if p := byTestID(t, doc, "child"); p.Parent == nil || p.Parent.DataAtom != atom.Body {
		t.Errorf("children are not rendered inside <body>")
	}
	title := byAtom(doc, atom.Title)[0]
	if got := text(title); !strings.HasPrefix(got, hostile) {
		t.Errorf("title = %q, want it to start with the given title as text", got)
	}
	noInlineScript(t, doc)
}

func TestLoginPage(t *testing.T) {
	tests := []struct {
		name      string
		data      views.LoginData
		wantError string // "" when no error box is expected
	}{
		{name: "empty", data: views.LoginData{}},
		{
			name:      "failed attempt",
			data:      views.LoginData{Username: "admin", Error: "아이디 또는 비밀번호가 틀립니다"},
			wantError: "아이디 또는 비밀번호가 틀립니다",
		},
		{
			name:      "hostile input",
			data:      views.LoginData{Username: hostile, Error: hostile},
			wantError: hostile,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := render(t, views.LoginPage(tt.data))

			form := byTestID(t, doc, "login-form")
			if form.DataAtom != atom.Form {
				t.Fatalf("login-form is <%s>, want <form>", form.Data)
			}
			if got := strings.ToLower(attr(form, "method")); got != "post" {
				t.Errorf("form method = %q, want post", got)
			}
			if got := attr(form, "action"); got != "/login" {
				t.Errorf("form action = %q, want /login", got)
			}

			// Exactly the documented fields: username and password, nothing else.
			if names := fieldNames(form); strings.Join(names, ",") != "username,password" {
				t.Errorf("form fields = %v, want [username password]", names)
			}

			user := byTestID(t, doc, "login-username")
			if user != inputNamed(t, form, "username") {
				t.Errorf("login-username is not the username input")
			}
			if got := attr(user, "value"); got != tt.data.Username {
				t.Errorf("username value = %q, want %q", got, tt.data.Username)
			}
			pass := byTestID(t, doc, "login-password")
			if pass != inputNamed(t, form, "password") {
				t.Errorf("login-password is not the password input")
			}
			if got := attr(pass, "type"); got != "password" {
				t.Errorf("password type = %q, want password", got)
			}
			if hasAttr(pass, "value") {
				t.Errorf("the password input must never be prefilled")
			}
			submit := byTestID(t, doc, "login-submit")
			if attr(submit, "type") != "submit" || !strings.Contains(text(submit), "로그인") || !strings.Contains(text(submit), "Sign in") {
				t.Errorf("submit button = %q, want a Korean and English label", text(submit))
			}

			if tt.wantError == "" {
				if hasTestID(doc, "login-error") {
					t.Errorf("error box shown without an error")
				}
			} else if got := text(byTestID(t, doc, "login-error")); got != tt.wantError {
				t.Errorf("error text = %q, want %q", got, tt.wantError)
			}
			noInlineScript(t, doc)
		})
	}
}

func TestErrorPage(t *testing.T) {
	tests := []struct {
		status  int
		message string
		wantKO  string
		wantEN  string
	}{
		{404, "PC를 찾을 수 없습니다", "찾을 수 없습니다", "Not Found"},
		{403, "", "권한이 없습니다", "Forbidden"},
		{500, hostile, "서버 오류", "Internal Server Error"},
		{599, "odd status", "오류", "Error"},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			doc := render(t, views.ErrorPage(tt.status, tt.message))

			if got := text(byTestID(t, doc, "error-status")); got != strconv.Itoa(tt.status) {
				t.Errorf("status = %q, want %d", got, tt.status)
			}
			heading := byTestID(t, doc, "error-status").Parent
			if got := text(heading); !strings.Contains(got, tt.wantKO) || !strings.Contains(got, tt.wantEN) {
				t.Errorf("heading = %q, want %q and %q", got, tt.wantKO, tt.wantEN)
			}
			if tt.message == "" {
				if hasTestID(doc, "error-message") {
					t.Errorf("message box shown without a message")
				}
			} else if got := text(byTestID(t, doc, "error-message")); got != tt.message {
				t.Errorf("message = %q, want %q", got, tt.message)
			}
			if got := attr(byTestID(t, doc, "error-home"), "href"); got != "/" {
				t.Errorf("home link = %q, want /", got)
			}
			noInlineScript(t, doc)
		})
	}
}
