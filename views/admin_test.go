package views_test

import (
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/a-h/templ"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/wcms-lab/wcms/views"
)

func adminFrame(role, nav string) views.Page {
	return views.Page{Title: hostile, User: "boss", Role: role, CSRF: "csrf-" + hostile, Nav: nav, Path: "/" + nav, Version: "t"}
}

// formControls maps the named controls (input, select) of a form to their types ("select" for a select).
func formControls(form *html.Node) map[string]string {
	out := map[string]string{}
	for _, n := range findAll(form, func(n *html.Node) bool { return n.DataAtom == atom.Input || n.DataAtom == atom.Select }) {
		typ := attr(n, "type")
		if n.DataAtom == atom.Select {
			typ = "select"
		}
		out[attr(n, "name")] = typ
	}
	return out
}

func TestPasswordPage(t *testing.T) {
	tests := []struct {
		name   string
		forced bool
		err    string
	}{
		{"voluntary", false, ""},
		{"forced with an error", true, hostile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := render(t, views.PasswordPage(views.PasswordView{Page: adminFrame("viewer", ""), Forced: tt.forced, Error: tt.err}))
			noInlineScript(t, doc)
			if got := hasTestID(doc, "password-forced"); got != tt.forced {
				t.Errorf("forced notice shown: %v, want %v", got, tt.forced)
			}
			if tt.err == "" && hasTestID(doc, "password-error") {
				t.Error("an error box without an error")
			}
			if tt.err != "" {
				if got := text(byTestID(t, doc, "password-error")); got != tt.err {
					t.Errorf("error shown as %q, want the text itself", got)
				}
			}
			form := byTestID(t, doc, "password-form")
			if attr(form, "method") != "post" || attr(form, "action") != "/password" {
				t.Errorf("form %s %s, want a plain POST /password", attr(form, "method"), attr(form, "action"))
			}
			want := map[string]string{"csrf_token": "hidden", "current_password": "password", "new_password": "password", "repeat_password": "password"}
			if got := formControls(form); !maps.Equal(got, want) {
				t.Errorf("fields %v, want %v", got, want)
			}
			if v := attr(inputNamed(t, form, "csrf_token"), "value"); v != "csrf-"+hostile {
				t.Errorf("csrf_token %q", v)
			}
		})
	}
}

func TestAccountsPage(t *testing.T) {
	created := time.Date(2026, 3, 1, 9, 30, 0, 0, time.Local)
	v := views.AccountsView{Page: adminFrame("admin", "accounts"), Notice: hostile, Accounts: []views.Account{
		{Username: "boss", Role: "admin", CreatedAt: created},
		{Username: hostile, Role: "viewer", MustChange: true, CreatedAt: created},
	}}
	doc := render(t, views.AccountsPage(v))
	noInlineScript(t, doc)
	if attr(byTestID(t, doc, "nav-accounts"), "aria-current") != "page" {
		t.Error("the accounts section is not marked current")
	}
	if got := text(byTestID(t, doc, "accounts-notice")); got != hostile {
		t.Errorf("notice %q", got)
	}
	rows := byTestIDAll(doc, "account")
	if len(rows) != 2 {
		t.Fatalf("%d account rows, want 2", len(rows))
	}
	self, other := rows[0], rows[1]
	if got := text(byTestIDAll(other, "account-username")[0]); got != hostile {
		t.Errorf("username shown as %q, want the text itself", got)
	}
	if attr(byTestIDAll(other, "account-role")[0], "data-role") != "viewer" || text(byTestIDAll(other, "account-role")[0]) != "열람자" {
		t.Errorf("role cell: %q", text(byTestIDAll(other, "account-role")[0]))
	}
	if len(byTestIDAll(other, "account-must-change")) != 1 || len(byTestIDAll(self, "account-must-change")) != 0 {
		t.Error("the must-change badge is not on exactly the flagged account")
	}
	if got := text(byTestIDAll(self, "account-created")[0]); got != "2026-03-01 09:30" {
		t.Errorf("created %q", got)
	}
	// The signed-in account changes its own password on /password; a reset would end its session.
	if len(byTestIDAll(self, "account-reset")) != 0 || len(byTestIDAll(self, "account-self")) != 1 {
		t.Error("the own account offers a reset")
	}
	reset := byTestIDAll(other, "account-reset")
	if len(reset) != 1 {
		t.Fatal("no reset form for another account")
	}
	if attr(reset[0], "hx-post") != "/accounts/password" || attr(reset[0], "hx-confirm") == "" {
		t.Errorf("reset form: hx-post %q, hx-confirm %q", attr(reset[0], "hx-post"), attr(reset[0], "hx-confirm"))
	}
	if v := attr(inputNamed(t, reset[0], "username"), "value"); v != hostile {
		t.Errorf("reset names %q", v)
	}
	if attr(byTestID(t, doc, "own-password"), "href") != "/password" {
		t.Error("no link to change the own password")
	}
	create := byTestID(t, doc, "account-create")
	want := map[string]string{"username": "text", "role": "select", "password": "password"}
	if got := formControls(create); attr(create, "hx-post") != "/accounts" || !maps.Equal(got, want) {
		t.Errorf("create form: hx-post %q fields %v", attr(create, "hx-post"), got)
	}
	if roles := optionValues(create); strings.Join(roles, " ") != "admin operator viewer" {
		t.Errorf("roles offered: %v", roles)
	}
	panel := byTestID(t, doc, "accounts-panel")
	if attr(panel, "hx-target") != "#accounts-panel" || attr(panel, "hx-swap") != "outerHTML" {
		t.Error("the panel's actions do not replace the panel")
	}
}

func TestPINsPage(t *testing.T) {
	expires := time.Date(2026, 3, 1, 10, 0, 0, 0, time.Local)
	pins := []views.PIN{
		{ID: 7, UsageType: "multi", UsedCount: 3, ExpiresAt: expires, CreatedBy: hostile},
		{ID: 4, UsageType: "single", ExpiresAt: expires, CreatedBy: "op"},
	}
	install := []views.InstallCommand{
		{ID: "powershell", System: "Windows (PowerShell)", Line: `powershell -Command "x" -Pin 123456`},
		{ID: "linux", System: "Linux", Line: "curl -fsSL http://h/install/install.sh | sudo sh -s -- 123456 " + hostile},
	}

	t.Run("list", func(t *testing.T) {
		doc := render(t, views.PINsPage(views.PINsView{Page: adminFrame("operator", "pins"), PINs: pins}))
		noInlineScript(t, doc)
		if hasTestID(doc, "pin-created") {
			t.Error("a created PIN is shown without one")
		}
		rows := byTestIDAll(doc, "pin")
		if len(rows) != 2 {
			t.Fatalf("%d PIN rows, want 2", len(rows))
		}
		cells := map[string]string{}
		for _, id := range []string{"pin-token", "pin-usage-type", "pin-used", "pin-expires-at", "pin-created-by"} {
			cells[id] = text(byTestIDAll(rows[0], id)[0])
		}
		// A PIN's value is shown once, when it is made; the list shows that it is hidden.
		want := map[string]string{"pin-token": "••••••", "pin-usage-type": "여러 번", "pin-used": "3",
			"pin-expires-at": "2026-03-01 10:00", "pin-created-by": hostile}
		if !maps.Equal(cells, want) {
			t.Errorf("row %v, want %v", cells, want)
		}
		revoke := byTestIDAll(rows[1], "pin-revoke")[0]
		if attr(revoke, "hx-delete") != "/pins/4" || attr(rows[1], "data-id") != "4" {
			t.Errorf("revoke: hx-delete %q hx-confirm %q", attr(revoke, "hx-delete"), attr(revoke, "hx-confirm"))
		}
		form := byTestID(t, doc, "pin-create")
		if got := formControls(form); attr(form, "hx-post") != "/pins" || !maps.Equal(got, map[string]string{"usage_type": "select", "expires_in": "select"}) {
			t.Errorf("create form: hx-post %q fields %v", attr(form, "hx-post"), got)
		}
		if lifetimes := optionValues(byTestID(t, doc, "pin-expires")); strings.Join(lifetimes, " ") != "600 3600 28800 86400" {
			t.Errorf("expiry choices %v, want 10 min, 1 h, 8 h, 24 h", lifetimes)
		}
	})

	t.Run("just created", func(t *testing.T) {
		created := pins[0]
		created.Token = "123456"
		v := views.PINsView{Page: adminFrame("operator", "pins"), PINs: pins, Created: &created, Install: install}
		doc := render(t, views.PINsPage(v))
		noInlineScript(t, doc)
		if got := text(byTestID(t, doc, "pin-created-token")); got != "123456" {
			t.Errorf("big PIN %q", got)
		}
		if got := attr(byTestID(t, doc, "pin-copy"), "data-copy"); got != "123456" {
			t.Errorf("copy button copies %q", got)
		}
		for _, ic := range install {
			box := byTestID(t, doc, "install-"+ic.ID)
			line, copyBtn := byTestIDAll(box, "install-line")[0], byTestIDAll(box, "install-copy")[0]
			if text(line) != ic.Line || attr(copyBtn, "data-copy") != ic.Line || attr(copyBtn, "type") != "button" {
				t.Errorf("%s: shows %q, copies %q", ic.ID, text(line), attr(copyBtn, "data-copy"))
			}
		}
	})

	t.Run("none", func(t *testing.T) {
		doc := render(t, views.PINsPage(views.PINsView{Page: adminFrame("operator", "pins")}))
		if !hasTestID(doc, "pins-empty") || hasTestID(doc, "pins") {
			t.Error("an empty list is not said to be empty")
		}
	})

	t.Run("english", func(t *testing.T) {
		doc := renderCtx(t, inEnglish, views.PINsPage(views.PINsView{Page: adminFrame("operator", "pins"), PINs: pins}))
		if got := text(byTestIDAll(doc, "pin-usage-type")[1]); got != "once" {
			t.Errorf("usage in English: %q", got)
		}
	})
}

// An htmx answer replaces its panel and empties the page's message area out of band.
func TestPanelUpdate(t *testing.T) {
	panel := templ.Raw(`<div id="p" data-testid="panel">x</div>`)
	doc := render(t, views.PanelUpdate(panel))
	if !hasTestID(doc, "panel") {
		t.Fatal("the panel is missing")
	}
	flash := byTestID(t, doc, "flash-clear")
	if attr(flash, "id") != "flash" || attr(flash, "hx-swap-oob") != "innerHTML" || flash.FirstChild != nil {
		t.Errorf("flash: id %q hx-swap-oob %q, empty %v", attr(flash, "id"), attr(flash, "hx-swap-oob"), flash.FirstChild == nil)
	}
}
