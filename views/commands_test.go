package views_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/wcms-lab/wcms/views"
)

func TestCommandFormFields(t *testing.T) {
	// The contract's parameters per type (docs/API.md, Command types).
	tests := []struct {
		typ         string
		fields      []string
		destructive bool
	}{
		{"shutdown", []string{"delay", "message"}, true},
		{"restart", []string{"delay", "message"}, true},
		{"message", []string{"message", "duration"}, false},
		{"kill_process", []string{"process_name"}, true},
		{"execute", []string{"command"}, true},
		{"install", []string{"app_id"}, false},
		{"uninstall", []string{"app_id"}, false},
		{"download", []string{"url", "destination"}, false},
		{"create_user", []string{"username", "password", "full_name", "comment", "language"}, false},
		{"delete_user", []string{"username"}, true},
		{"change_password", []string{"username", "new_password"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			f := views.CommandForm{Type: tt.typ, PCs: []views.CommandTarget{{ID: 4, Hostname: "lab-04"}, {ID: 5, Hostname: "lab-05"}}}
			doc := render(t, views.CommandFormPanel(f))
			checkCSP(t, doc)

			if got := fieldNames(byTestID(t, doc, "command-fields")); !slices.Equal(got, tt.fields) {
				t.Errorf("fields %v, want %v", got, tt.fields)
			}
			form := byTestID(t, doc, "command-form")
			if attr(form, "hx-post") != "/commands" || attr(form, "hx-target") != "this" || attr(form, "hx-swap") != "outerHTML" ||
				attr(form, "hx-disinherit") != "*" {
				t.Errorf("form posts %q to %q (%q), disinherit %q", attr(form, "hx-post"), attr(form, "hx-target"),
					attr(form, "hx-swap"), attr(form, "hx-disinherit"))
			}
			if got := hasAttr(form, "hx-confirm"); got != tt.destructive {
				t.Errorf("asks for confirmation: %v, want %v", got, tt.destructive)
			}
			if tt.destructive && !strings.Contains(attr(form, "hx-confirm"), "2대") {
				t.Errorf("confirmation %q does not say how many PCs", attr(form, "hx-confirm"))
			}
			if got := strings.Contains(attr(byTestID(t, doc, "command-submit"), "class"), "danger"); got != tt.destructive {
				t.Errorf("red submit button: %v, want %v", got, tt.destructive)
			}
			sel := byTestID(t, doc, "command-type")
			var selected []string
			for _, o := range findAll(sel, func(n *html.Node) bool { return n.DataAtom == atom.Option && hasAttr(n, "selected") }) {
				selected = append(selected, attr(o, "value"))
			}
			if !slices.Equal(selected, []string{tt.typ}) {
				t.Errorf("selected types %v, want [%s]", selected, tt.typ)
			}
			for _, pw := range []string{"password", "new_password"} {
				for _, in := range findAll(form, func(n *html.Node) bool { return attr(n, "name") == pw }) {
					if attr(in, "type") != "password" || hasAttr(in, "value") || attr(in, "autocomplete") != "new-password" {
						t.Errorf("%s input: type %q value? %v autocomplete %q", pw, attr(in, "type"), hasAttr(in, "value"), attr(in, "autocomplete"))
					}
				}
			}
			if got := hasTestID(doc, "command-secret-hint"); got != (tt.typ == "create_user" || tt.typ == "change_password") {
				t.Errorf("password hint shown: %v", got)
			}
		})
	}
}

func TestCommandFormTargets(t *testing.T) {
	t.Run("PCs", func(t *testing.T) {
		f := views.CommandForm{Type: "message", PCs: []views.CommandTarget{{ID: 4, Hostname: hostile}, {ID: 9, Hostname: "lab-09"}}}
		doc := render(t, views.CommandFormPanel(f))
		targets := byTestIDAll(doc, "command-target")
		if len(targets) != 2 || text(targets[0]) != hostile || text(targets[1]) != "lab-09" {
			t.Fatalf("targets shown: %d", len(targets))
		}
		form := byTestID(t, doc, "command-form")
		sel := byTestID(t, doc, "command-type")
		for _, n := range []*html.Node{form, sel} {
			var vals map[string]any
			if err := json.Unmarshal([]byte(attr(n, "hx-vals")), &vals); err != nil {
				t.Fatalf("<%s> hx-vals %q: %v", n.Data, attr(n, "hx-vals"), err)
			}
			if fmt.Sprint(vals) != "map[pc_ids:[4 9]]" {
				t.Errorf("<%s> sends targets %v, want pc_ids 4 and 9", n.Data, vals)
			}
		}
		// The room page's selection bar includes every [name=pc_ids]: the form must hold none.
		if n := len(findAll(doc, func(n *html.Node) bool { return attr(n, "name") == "pc_ids" || attr(n, "name") == "room" })); n != 0 {
			t.Errorf("%d inputs named pc_ids or room", n)
		}
		if attr(sel, "hx-get") != "/commands/new" || attr(sel, "hx-trigger") != "change" || attr(sel, "hx-target") != "#command-form" ||
			attr(sel, "hx-swap") != "outerHTML" {
			t.Errorf("type selector does not re-render the form")
		}
	})
	t.Run("room", func(t *testing.T) {
		f := views.CommandForm{Type: "shutdown", Room: hostile, PCs: []views.CommandTarget{{ID: 4, Hostname: "a"}, {ID: 5, Hostname: "b"}, {ID: 6, Hostname: "c"}}}
		doc := render(t, views.CommandFormPanel(f))
		form := byTestID(t, doc, "command-form")
		for _, n := range []*html.Node{form, byTestID(t, doc, "command-type")} {
			var vals map[string]any
			if err := json.Unmarshal([]byte(attr(n, "hx-vals")), &vals); err != nil || len(vals) != 1 || vals["room"] != hostile {
				t.Errorf("<%s> sends targets %v (%v), want the room alone", n.Data, vals, err)
			}
		}
		if got := text(byTestID(t, doc, "command-room")); !strings.Contains(got, hostile) {
			t.Errorf("room shown as %q", got)
		}
		if c := attr(form, "hx-confirm"); !strings.Contains(c, hostile) || !strings.Contains(c, "3대") {
			t.Errorf("confirmation %q does not name the room and count", c)
		}
	})
}

func TestCommandFormProcesses(t *testing.T) {
	f := views.CommandForm{Type: "kill_process", PCs: []views.CommandTarget{{ID: 4, Hostname: "lab"}}, Processes: []string{"chrome.exe", hostile}}
	doc := render(t, views.CommandFormPanel(f))
	checkCSP(t, doc)
	in := byTestID(t, doc, "param-process_name")
	list := byTestID(t, doc, "process-list")
	if attr(in, "list") != attr(list, "id") {
		t.Errorf("input list %q, datalist id %q", attr(in, "list"), attr(list, "id"))
	}
	got := optionValues(list)
	if !slices.Equal(got, []string{"chrome.exe", hostile}) {
		t.Errorf("offered %v", got)
	}

	f.Processes = nil
	if hasTestID(render(t, views.CommandFormPanel(f)), "process-list") {
		t.Error("an empty process list is offered")
	}
}

func TestCommandFormLanguage(t *testing.T) {
	doc := render(t, views.CommandFormPanel(views.CommandForm{Type: "create_user"}))
	sel := byTestID(t, doc, "param-language")
	var values []string
	selected := ""
	for _, o := range findAll(sel, func(n *html.Node) bool { return n.DataAtom == atom.Option }) {
		values = append(values, attr(o, "value"))
		if hasAttr(o, "selected") {
			selected = attr(o, "value")
		}
	}
	if selected != "ko-KR" || !slices.Contains(values, "en-US") || !slices.Contains(values, "") {
		t.Errorf("languages %v, selected %q", values, selected)
	}
}

func TestCommandResultsPanel(t *testing.T) {
	exit := 2
	r := views.CommandResults{Retryable: true, Commands: []views.CommandView{
		{ID: 31, PCID: 4, Hostname: hostile, Type: "execute", Summary: `{"command":"dir"}`, Status: "error", Output: hostile, ExitCode: &exit},
		{ID: 32, PCID: 5, Hostname: "lab-05", Type: "execute", Summary: `{"command":"dir"}`, Status: "pending"},
	}}
	doc := render(t, views.CommandResultsPanel(r))
	checkCSP(t, doc)

	form := byTestID(t, doc, "command-results")
	if attr(form, "hx-post") != "/commands/retry" || attr(form, "hx-target") != "this" || attr(form, "hx-swap") != "outerHTML" {
		t.Errorf("matrix posts %q to %q %q", attr(form, "hx-post"), attr(form, "hx-target"), attr(form, "hx-swap"))
	}
	var ids []string
	for _, in := range findAll(form, func(n *html.Node) bool { return attr(n, "name") == "command_ids" }) {
		ids = append(ids, attr(in, "value"))
	}
	if !slices.Equal(ids, []string{"31", "32"}) {
		t.Errorf("command_ids %v", ids)
	}
	if attr(byTestID(t, doc, "retry-failed"), "type") != "submit" {
		t.Error("retry is not the form's submit button")
	}
	rows := byTestIDAll(doc, "result-row")
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2", len(rows))
	}
	host := byTestIDAll(rows[0], "result-hostname")[0]
	if text(host) != hostile || attr(host, "href") != "/pc/4" {
		t.Errorf("hostname %q links to %q", text(host), attr(host, "href"))
	}
	if got := text(byTestIDAll(rows[0], "result-type")[0]); got != "명령 실행" {
		t.Errorf("type shown as %q", got)
	}
	for i, want := range []struct{ id, status string }{{"cmd-31", "error"}, {"cmd-32", "pending"}} {
		live := byTestIDAll(rows[i], "command-live")
		if len(live) != 1 || attr(live[0], "id") != want.id || attr(byTestIDAll(live[0], "command-cell")[0], "data-status") != want.status {
			t.Errorf("row %d has no live cell %s in state %s", i, want.id, want.status)
		}
	}
	if got := text(byTestIDAll(rows[0], "command-output")[0]); got != hostile {
		t.Errorf("output %q, want the text itself", got)
	}
	if hasTestID(doc, "retry-unavailable") || hasTestID(doc, "retry-skipped") {
		t.Error("notes shown for a plain retryable matrix")
	}

	r.Retryable, r.Skipped = false, 2
	doc = render(t, views.CommandResultsPanel(r))
	if hasTestID(doc, "retry-failed") {
		t.Error("retry offered for commands whose password is gone")
	}
	byTestID(t, doc, "retry-unavailable")
	if got := text(byTestID(t, doc, "retry-skipped")); !strings.Contains(got, "2") {
		t.Errorf("skipped note %q", got)
	}
}

func TestCommandsPage(t *testing.T) {
	panel := views.CommandFormPanel(views.CommandForm{Type: "message", PCs: []views.CommandTarget{{ID: 1, Hostname: "lab"}}})
	doc := render(t, views.CommandsPage(views.Page{Title: hostile, Role: "operator", CSRF: "tok"}, "/stream?pc=1", panel))
	checkCSP(t, doc)
	byTestID(t, doc, "topbar")
	page := byTestID(t, doc, "commands-page")
	if attr(page, "hx-ext") != "sse" || attr(page, "sse-connect") != "/stream?pc=1" {
		t.Errorf("page: hx-ext %q sse-connect %q", attr(page, "hx-ext"), attr(page, "sse-connect"))
	}
	if f := byTestID(t, doc, "command-form"); f.Parent != byTestID(t, doc, "command-panel") {
		t.Error("the form is not inside the command panel")
	}
}

func TestCommandFormEnglish(t *testing.T) {
	f := views.CommandForm{Type: "restart", PCs: []views.CommandTarget{{ID: 4, Hostname: "lab"}}}
	doc := renderCtx(t, inEnglish, views.CommandFormPanel(f))
	if got := attr(byTestID(t, doc, "command-form"), "hx-confirm"); got != "Send 'Restart' to 1 PC(s)?" {
		t.Errorf("confirmation %q", got)
	}
	if got := text(byTestID(t, doc, "command-submit")); got != "Send" {
		t.Errorf("submit %q", got)
	}
}

// A destructive command's confirmation names the field it quotes (static/app.js): the command
// line to run, the process to kill, the account to delete; never a password.
func TestCommandFormConfirmationQuotes(t *testing.T) {
	for typ, want := range map[string]string{"execute": "command", "kill_process": "process_name", "delete_user": "username",
		"shutdown": "", "message": "", "change_password": ""} {
		form := byTestID(t, render(t, views.CommandFormPanel(views.CommandForm{Type: typ})), "command-form")
		if got := attr(form, "data-confirm-with"); got != want {
			t.Errorf("%s: the confirmation quotes %q, want %q", typ, got, want)
		}
	}
}
