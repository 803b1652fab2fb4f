package views

import (
	"context"
	"encoding/json"
	"net/url"
)

// Page is what every signed-in page's frame needs.
type Page struct {
	Title   string
	User    string
	Role    string // admin, operator or viewer
	CSRF    string // echoed by HTMX (hx-headers) and by plain forms
	Nav     string // the section shown as current
	Path    string // this page's path, where the language switch comes back to
	Version string
}

// CanOperate tells whether the role may send commands and manage PINs, rooms and PCs.
func (p Page) CanOperate() bool { return p.Role == "admin" || p.Role == "operator" }

// IsAdmin tells whether the role may manage accounts and agent builds.
func (p Page) IsAdmin() bool { return p.Role == "admin" }

func (p Page) csrfHeaders() string { return jsonObject(map[string]string{"X-CSRF-Token": p.CSRF}) }

// jsonObject is m as a JSON object, for hx-vals and hx-headers.
func jsonObject(m map[string]string) string {
	b, _ := json.Marshal(m) // strings only: cannot fail
	return string(b)
}

func (p Page) langSwitchURL(ctx context.Context) string {
	to := English
	if LangOf(ctx) == English {
		to = Korean
	}
	path := p.Path
	if path == "" || path[0] != '/' || (len(path) > 1 && path[1] == '/') {
		path = "/" // only a local path: the switch must not become an open redirect
	}
	return "/lang/" + string(to) + "?next=" + url.QueryEscape(path)
}
