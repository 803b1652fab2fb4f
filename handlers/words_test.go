package handlers_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/wcms-lab/wcms/handlers"
	"golang.org/x/net/html"
)

var (
	// quoted drops what an error quotes or names in parentheses (a value sent, a field's wire
	// name): those stay as they were typed.
	quoted = regexp.MustCompile(`"[^"]*"|\([^)]*\)`)
	// prose is two English words in a row: a sentence left untranslated, where a lone word is a
	// name (PC, URL, wcms-agent).
	prose = regexp.MustCompile(`[A-Za-z]{2,}(?: [A-Za-z]{2,})+`)
)

// englishProse returns the English phrases of a Korean page's text.
func englishProse(s string) []string { return prose.FindAllString(quoted.ReplaceAllString(s, ""), -1) }

func hasHangul(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return unicode.Is(unicode.Hangul, r) })
}

// errorMakers are the functions that make an error with both its texts: the position of the
// Korean format among their arguments (the English one follows it, then the arguments both
// formats take), and the verbs the maker adds to both.
var errorMakers = map[string]struct{ ko, adds int }{"newError": {2, 0}, "badRequest": {1, 0}, "tooMany": {1, 0},
	"logBadRequest": {0, 1}, "refuse": {0, 0}, "problemf": {0, 0}}

// verb is one formatting verb; %% is none.
var verb = regexp.MustCompile(`%[-+# 0]*[0-9]*(?:\.[0-9]*)?(?:\[[0-9]+\])?[a-zA-Z%]`)

func verbCount(format string) int {
	n := 0
	for _, v := range verb.FindAllString(format, -1) {
		if v != "%%" {
			n++
		}
	}
	return n
}

// literal is the text of the string literals of a string or a sum of strings (a wrapper's own
// words, strings.Join of a list, are left out); ok is false when there is no literal.
func literal(e ast.Expr) (text string, ok bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind == token.STRING {
			s, err := strconv.Unquote(e.Value)
			return s, err == nil
		}
	case *ast.BinaryExpr:
		if e.Op == token.ADD {
			a, ok1 := literal(e.X)
			b, ok2 := literal(e.Y)
			return a + b, ok1 || ok2
		}
	}
	return "", false
}

// untranslated tells whether a Korean format has English words in it; one made of arguments
// alone ("%[3]s: %[4]s") has none.
func untranslated(ko string) bool {
	words := verb.ReplaceAllString(ko, "")
	return len(englishProse(words)) > 0 || !hasHangul(words) && strings.ContainsFunc(words, unicode.IsLetter)
}

// TestEveryErrorHasKoreanText reads the source: every error the pages can show is made with a
// Korean text beside its English one, and both formats take the arguments given (a Korean
// format short of one prints "%!(EXTRA …)" on the page; go vet checks the English one only).
func TestEveryErrorHasKoreanText(t *testing.T) {
	fset := token.NewFileSet()
	var files []*ast.File
	for _, dir := range []string{".", "../agentbuilds", "../command"} {
		names, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			if strings.HasSuffix(name, "_test.go") || strings.HasSuffix(name, "_templ.go") {
				continue
			}
			f, err := parser.ParseFile(fset, name, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
	}
	calls := 0
	for _, f := range files {
		for _, decl := range f.Decls {
			if fn, ok := decl.(*ast.FuncDecl); ok {
				if _, maker := errorMakers[fn.Name.Name]; maker {
					continue // a maker passes its callers' formats on
				}
			}
			ast.Inspect(decl, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CallExpr:
					id, ok := n.Fun.(*ast.Ident)
					if !ok {
						return true
					}
					m, maker := errorMakers[id.Name]
					i := m.ko
					if !maker {
						return true
					}
					calls++
					where := fset.Position(n.Pos()).String()
					if len(n.Args) < i+2 {
						t.Errorf("%s: %s without both texts", where, id.Name)
						return true
					}
					ko, okKO := literal(n.Args[i])
					en, okEN := literal(n.Args[i+1])
					switch {
					case !okKO || !okEN:
						t.Errorf("%s: %s's texts must be literals, side by side", where, id.Name)
					case untranslated(ko):
						t.Errorf("%s: the Korean text %q is not Korean", where, ko)
					}
					args := len(n.Args) - i - 2 - m.adds
					for _, format := range []string{ko, en} {
						if !strings.Contains(format, "%[") && verbCount(format) != args {
							t.Errorf("%s: %q has %d verbs for %d arguments", where, format, verbCount(format), args)
						}
					}
				case *ast.CompositeLit:
					// problem{ko, en} in package command.
					if id, ok := n.Type.(*ast.Ident); ok && id.Name == "problem" && len(n.Elts) == 2 {
						calls++
						if ko, ok := literal(n.Elts[0]); !ok || untranslated(ko) {
							t.Errorf("%s: a problem without Korean text", fset.Position(n.Pos()))
						}
					}
				}
				return true
			})
		}
	}
	t.Logf("%d errors made, each with its Korean text", calls)
	if calls < 140 {
		t.Errorf("found %d errors made; the test no longer sees how errors are made", calls)
	}
}

// TestErrorsSpeakThePageLanguage: the same refusal reads in Korean on a Korean page, in English
// on an English one (cookie or browser), and in English in the JSON API; errors of the layers
// below (a taken name) and of the command catalogue (a missing parameter) too.
func TestErrorsSpeakThePageLanguage(t *testing.T) {
	ts := newTestServer(t)
	a := ts.admin()
	pc := itoa(ts.register(ts.pin(a, "single"), "m1").PCID)
	a.do("POST", "/api/admin/rooms", map[string]any{"name": "ENG301", "rows": 2, "cols": 2}).must(t, 200)
	refusals := []struct {
		name, method, path string
		vals               url.Values
		status             int
		ko, en             string
	}{
		{"PIN lifetime", "POST", "/pins", url.Values{"usage_type": {"single"}, "expires_in": {"30"}}, 400,
			"유효 시간은 1분에서 24시간", "expires_in must be from 60 to 86400 seconds, not 30"},
		{"taken room name", "POST", "/layout/rooms", url.Values{"name": {"ENG301"}, "rows": {"1"}, "cols": {"1"}}, 409,
			"같은 것이 이미 있습니다", `create room "ENG301": already exists`},
		{"missing parameter", "POST", "/commands", url.Values{"type": {"execute"}, "pc_ids": {pc}}, 400,
			"명령: 꼭 넣어야 합니다", "parameters.command is required"},
		{"number out of range", "POST", "/commands", url.Values{"type": {"message"}, "pc_ids": {pc}, "message": {"hi"}, "duration": {"0"}}, 400,
			"표시 시간(초): 1부터 86400까지여야 합니다", "parameters.duration must be from 1 to 86400, not 0"},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			for _, lang := range []string{"ko", "en"} {
				r := a.sendForm(tt.method, tt.path, tt.vals, handlers.CSRFHeader, a.csrf, "HX-Request", "true", "Accept-Language", lang)
				if r.Status != tt.status {
					t.Fatalf("%s: %d, want %d: %.300s", lang, r.Status, tt.status, r.Raw)
				}
				flash := textOf(byTestID(t, htmlDoc(t, r), "error-flash"))
				want, other := tt.ko, tt.en
				if lang == "en" {
					want, other = tt.en, tt.ko
				}
				if !strings.Contains(flash, want) || strings.Contains(flash, other) {
					t.Errorf("%s flash %q, want %q and not %q", lang, flash, want, other)
				}
				if lang == "ko" && len(englishProse(flash)) > 0 {
					t.Errorf("the Korean flash %q has English: %q", flash, englishProse(flash))
				}
				if lang == "en" && hasHangul(flash) {
					t.Errorf("the English flash %q has Korean", flash)
				}
			}
		})
	}
	// The JSON API keeps the contract's English message, whatever the language asked.
	r := ts.do(a.client, "POST", "/api/admin/registration-token", map[string]any{"usage_type": "single", "expires_in": 30},
		handlers.CSRFHeader, a.csrf, "Accept-Language", "ko")
	if r.Status != 400 || r.get("message") != "expires_in must be from 60 to 86400 seconds, not 30" {
		t.Errorf("JSON: %d %v", r.Status, r.get("message"))
	}
}

// TestPagesSpeakOneLanguage loads every page of a small lab in each language: no English
// sentence in a Korean page, no Korean in an English one, in the text and in the words people
// read from attributes (titles, placeholders, labels, confirmations). What agents reported (the
// CPU's name) and the language switch's own name are not the page's words.
func TestPagesSpeakOneLanguage(t *testing.T) {
	ts := newTestServer(t)
	a := ts.admin()
	pc := itoa(ts.register(ts.pin(a, "single"), "m1").PCID)
	a.do("POST", "/api/admin/rooms", map[string]any{"name": "ENG301", "rows": 2, "cols": 2}).must(t, 200)
	a.do("PUT", "/api/admin/pc/"+pc+"/seat", map[string]any{"room": "ENG301", "row": 1, "col": 1}).must(t, 200)
	a.do("POST", "/api/admin/pc/"+pc+"/execute", map[string]any{"command": "hostname"}).must(t, 200)
	reported := map[string]bool{"Intel Core i5-9400": true, "한국어": true, "English": true}
	read := map[string]bool{"title": true, "placeholder": true, "aria-label": true, "alt": true, "hx-confirm": true, "data-confirm": true}
	pages := []string{"/", "/?room=ENG301", "/?room=", "/pcs", "/status", "/log", "/log?tab=commands", "/log?tab=registrations",
		"/log?tab=room-actions", "/agents", "/pins", "/layout", "/layout?room=ENG301", "/walls?room=ENG301", "/accounts",
		"/pc/" + pc, "/commands/new?pc_ids=" + pc, "/commands/new?room=ENG301&type=shutdown", "/password"}
	for _, lang := range []string{"ko", "en"} {
		foreign := func(s string) []string {
			if lang == "en" {
				if hasHangul(s) {
					return []string{s}
				}
				return nil
			}
			return englishProse(s)
		}
		for _, path := range pages {
			r := ts.do(a.client, "GET", path, nil, "Accept-Language", lang).must(t, 200)
			var walk func(n *html.Node)
			walk = func(n *html.Node) {
				switch {
				case n.Type == html.ElementNode && (n.Data == "script" || n.Data == "style" || n.Data == "code" || n.Data == "pre"):
					return // commands and output are the PC's, not words
				case n.Type == html.ElementNode:
					for _, at := range n.Attr {
						if read[at.Key] && !reported[at.Val] && len(foreign(at.Val)) > 0 {
							t.Errorf("%s %s: <%s %s=%q>", lang, path, n.Data, at.Key, at.Val)
						}
					}
				case n.Type == html.TextNode:
					if text := strings.TrimSpace(n.Data); !reported[text] && len(foreign(text)) > 0 {
						t.Errorf("%s %s: %q in <%s>", lang, path, text, n.Parent.Data)
					}
				}
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					walk(c)
				}
			}
			walk(htmlDoc(t, r))
		}
	}
}
