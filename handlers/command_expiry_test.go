package handlers_test

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

// The form offers to keep a command for PCs that are off, by default as long as its type says:
// a message an hour, an install a week, a shutdown not at all.
func TestCommandFormOffersAWaitPerType(t *testing.T) {
	l := newPCLab(t)
	for typ, want := range map[string]int{"message": 3600, "install": 7 * 86400, "execute": 86400, "shutdown": 0, "kill_process": 0} {
		doc := htmlDoc(t, l.op.form("GET", "/commands/new?type="+typ+"&pc_ids="+itoa(l.pc1.PCID), nil, true).must(t, 200))
		var selected []string
		var walk func(*html.Node)
		walk = func(n *html.Node) {
			if n.Type == html.ElementNode && n.Data == "option" && hasAttr(n, "selected") {
				selected = append(selected, attr(n, "value"))
			}
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c)
			}
		}
		walk(byTestID(t, doc, "command-expires"))
		if len(selected) != 1 || selected[0] != strconv.Itoa(want) {
			t.Errorf("%s: selected wait %v, want %d", typ, selected, want)
		}
	}
}

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

// A command with a wait keeps it (the API shows until when, the PC page says it waits for the PC);
// a wait out of bounds is refused, in both languages.
func TestCommandWithAWait(t *testing.T) {
	l := newPCLab(t)
	pc := "/api/admin/pc/" + itoa(l.pc2.PCID)
	for _, bad := range []int{30, 7*86400 + 1, -5} {
		r := l.admin.do("POST", pc+"/command", map[string]any{"type": "install", "parameters": map[string]any{"app_id": "7zip"}, "expires_in": bad})
		checkEnvelope(t, r, 400, "INVALID_FIELD", "expires_in")
	}
	sent := time.Now()
	id := l.admin.do("POST", pc+"/command", map[string]any{"type": "install", "parameters": map[string]any{"app_id": "7zip"},
		"expires_in": 86400}).must(t, 200).num("command_id")
	got := l.admin.do("GET", "/api/admin/command/"+itoa(id), nil).must(t, 200)
	at, err := time.Parse(time.RFC3339, got.get("command.expires_at").(string))
	if err != nil || got.get("command.status") != "pending" || at.Sub(sent) < 86399*time.Second || at.Sub(sent) > 86401*time.Second {
		t.Fatalf("a command waiting a day: %s", got.Raw)
	}
	page := l.op.form("GET", "/pc/"+itoa(l.pc2.PCID), nil, false).must(t, 200)
	if !strings.Contains(page.Raw, `data-testid="command-waiting"`) || !strings.Contains(page.Raw, "PC를 기다리는 중") {
		t.Error("the PC page does not say the command waits for the PC")
	}
	// The form sends it too.
	vals := url.Values{"type": {"message"}, "message": {"hello"}, "pc_ids": {itoa(l.pc2.PCID)}, "expires_in": {"3600"}}
	l.op.form("POST", "/commands", vals, true).must(t, 200)
	cmds := l.commands(t, l.pc2)
	if cmds[0].Type != "message" || cmds[0].ExpiresAt == nil || cmds[0].ExpiresAt.Sub(sent) < 3599*time.Second {
		t.Fatalf("the form's command: %+v", cmds[0])
	}
}
