package e2e

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

var updateScreenshots = flag.Bool("screenshots", false, "write the browser test's screenshots to docs/screenshots")

// fakePC is a PC speaking the agent API directly, so the test decides what it reports.
type fakePC struct {
	srv       *server
	machineID string
	token     string
	id        float64
}

func (s *server) fakePC(pin, machineID string) *fakePC {
	s.t.Helper()
	var res struct {
		PCID  float64 `json:"pc_id"`
		Token string  `json:"agent_token"`
	}
	s.agentCall("", "/api/client/register", map[string]any{"machine_id": machineID, "pin": pin,
		"hostname": machineID, "mac_address": "AA:BB:CC:DD:EE:01", "ip_address": "10.0.0.1"}, &res)
	return &fakePC{srv: s, machineID: machineID, token: res.Token, id: res.PCID}
}

func (s *server) agentCall(token, path string, body, out any) {
	s.t.Helper()
	if err := send(http.DefaultClient, "POST", s.URL+path, token, "", body, out); err != nil {
		s.t.Fatalf("POST %s: %v", path, err)
	}
}

// poll sends a heartbeat with the poll and returns the command handed out, if any.
func (p *fakePC) poll(cpu float64) map[string]any {
	var res struct {
		Data struct {
			Command map[string]any `json:"command"`
		} `json:"data"`
	}
	p.srv.agentCall(p.token, "/api/client/commands", map[string]any{"machine_id": p.machineID,
		"heartbeat": map[string]any{"cpu_usage": cpu, "ram_usage_percent": 30.0, "ip_address": "10.0.0.1"}}, &res)
	return res.Data.Command
}

func (p *fakePC) result(cmdID float64, output string) {
	p.srv.agentCall(p.token, fmt.Sprintf("/api/client/commands/%d/result", int64(cmdID)),
		map[string]any{"status": "success", "output": output, "exit_code": 0}, nil)
}

// browser starts headless Debian chromium; each call to tab opens an independent window.
func browser(t *testing.T) func(width, height int64, opts ...chromedp.EmulateViewportOption) context.Context {
	t.Helper()
	path := ""
	for _, p := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if found, err := exec.LookPath(p); err == nil {
			path = found
			break
		}
	}
	if path == "" {
		t.Skip("no chromium on PATH (.ci/run installs Debian's chromium)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-gpu", true),
		chromedp.Flag("lang", "ko-KR"), chromedp.Flag("accept-lang", "ko-KR")) // Korean first, as in the labs
	alloc, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	return func(width, height int64, opts ...chromedp.EmulateViewportOption) context.Context {
		// A new browser context each time: its own cookies, like another device.
		ctx, cancel := chromedp.NewContext(alloc)
		t.Cleanup(cancel)
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, height, opts...)); err != nil {
			t.Fatal(err)
		}
		ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
		t.Cleanup(cancelT)
		return ctx
	}
}

func run(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// value runs one action that returns a value.
func value[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

func eval(expr string) chromedp.Action[chromedp.Void] { return chromedp.Evaluate[chromedp.Void](expr) }

func poll(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(10*time.Millisecond), chromedp.WithPollingTimeout(5*time.Second))
}

func login(t *testing.T, ctx context.Context, base string) {
	t.Helper()
	run(t, ctx, "log in",
		chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(`[data-testid=login-username]`, "admin"),
		chromedp.SendKeys(`[data-testid=login-password]`, adminPassword),
		chromedp.Click(`[data-testid=login-submit]`),
		chromedp.WaitVisible(`[data-testid=room]`),
	)
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png := value(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
	dir := t.TempDir()
	if *updateScreenshots {
		dir = filepath.Join(root(t), "docs", "screenshots")
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDashboardInBrowser drives the dashboard in headless chromium against the real server.
func TestDashboardInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("runs chromium")
	}
	tab := browser(t)
	srv := startServer(t)
	pin := srv.newPIN("multi", 600)
	srv.api("POST", "/api/admin/rooms", map[string]any{"name": "Lab 1", "rows": 2, "cols": 3})
	var pcs []*fakePC
	for i, host := range []string{"LAB1-01", "LAB1-02", "LAB1-03", "LAB1-04"} {
		p := srv.fakePC(pin, host)
		p.poll(float64(10 * (i + 1)))
		srv.api("PUT", fmt.Sprintf("/api/admin/pc/%d/seat", int64(p.id)), map[string]any{"room": "Lab 1", "row": 1 + i/3, "col": 1 + i%3})
		pcs = append(pcs, p)
	}

	desk := tab(1280, 900)
	login(t, desk, srv.URL)
	run(t, desk, "open the room", chromedp.Navigate(srv.URL+"/?room=Lab%201"), chromedp.WaitVisible(`[data-testid=seats]`),
		eval(`window.notReloaded = true`))

	// A heartbeat through the agent API changes the tile's CPU text, live.
	cpu := fmt.Sprintf(`#pc-%d [data-testid=tile-cpu]`, int64(pcs[0].id))
	time.Sleep(300 * time.Millisecond) // the page's stream has connected and sent its first state
	sent := time.Now()
	pcs[0].poll(87)
	run(t, desk, "see the tile change", poll(fmt.Sprintf(`document.querySelector(%q).textContent.trim() === "87%%"`, cpu)))
	took := time.Since(sent)
	still := value(t, desk, "check no reload", chromedp.Evaluate[bool](`window.notReloaded === true`))
	t.Logf("tile updated %v after the heartbeat", took.Round(time.Millisecond))
	if took > time.Second || !still {
		t.Errorf("tile changed after %v (want within 1 s), page kept: %v", took, still)
	}
	screenshot(t, desk, "desktop-room.png")

	// "Select all online" checks exactly the online PCs' boxes; "Clear" unchecks them.
	checked := `document.querySelectorAll('input[name=pc_ids]:checked').length`
	online := `document.querySelectorAll('input[name=pc_ids][data-online=true]').length`
	run(t, desk, "select all online", chromedp.Click(`[data-testid=select-online]`))
	nChecked := value(t, desk, "count checked", chromedp.Evaluate[int](checked))
	nOnline := value(t, desk, "count online", chromedp.Evaluate[int](online))
	if nChecked != nOnline || nOnline == 0 {
		t.Errorf("select all online checked %d boxes, %d PCs are online", nChecked, nOnline)
	}
	run(t, desk, "clear the selection", chromedp.Click(`[data-testid=select-none]`))
	if n := value(t, desk, "count checked", chromedp.Evaluate[int](checked)); n != 0 {
		t.Errorf("%d boxes still checked after Clear", n)
	}

	// Select two PCs and send them a message; the result matrix fills as results arrive.
	run(t, desk, "select two PCs and open the command form",
		chromedp.Click(fmt.Sprintf(`#pc-%d [data-testid=tile-label]`, int64(pcs[0].id))),
		chromedp.Click(fmt.Sprintf(`#pc-%d [data-testid=tile-label]`, int64(pcs[1].id))),
		chromedp.Click(`[data-testid=command-selected]`),
		chromedp.WaitVisible(`[data-testid=command-form]`),
	)
	run(t, desk, "send a message",
		chromedp.SetValue(`[data-testid=command-type]`, "message"),
		eval(`document.querySelector('[data-testid=command-type]').dispatchEvent(new Event('change', {bubbles: true}))`),
		chromedp.WaitVisible(`[data-testid=param-message]`),
		chromedp.SendKeys(`[data-testid=param-message]`, "수업 끝 — class is over"),
		chromedp.Click(`[data-testid=command-submit]`),
		chromedp.WaitVisible(`[data-testid=result-matrix]`),
	)
	rows := value(t, desk, "count matrix rows", chromedp.Evaluate[int](`document.querySelectorAll('[data-testid=result-matrix] [data-testid=command-live]').length`))
	if rows != 2 {
		t.Fatalf("result matrix has %d rows, want 2", rows)
	}
	for _, p := range pcs[:2] {
		cmd := p.poll(20)
		if cmd == nil || cmd["type"] != "message" {
			t.Fatalf("PC %s got %v, want the message", p.machineID, cmd)
		}
		p.result(cmd["id"].(float64), "shown to 1 session")
	}
	run(t, desk, "see the matrix fill", poll(
		`[...document.querySelectorAll('[data-testid=result-matrix] [data-testid=command-cell]')].every(c => c.dataset.status === "completed")`))
	screenshot(t, desk, "desktop-commands.png")

	// A wall link shows the room without signing in.
	run(t, desk, "create a wall link",
		chromedp.Navigate(srv.URL+"/walls?room=Lab%201"),
		chromedp.SendKeys(`[name=label]`, "front screen"),
		chromedp.Click(`[data-testid=wall-create-submit]`),
		chromedp.WaitVisible(`[data-testid=wall-new-url]`),
	)
	wallURL := value(t, desk, "read the link", chromedp.Text(`[data-testid=wall-new-url]`))
	wall := tab(1920, 1080)
	run(t, wall, "open the wall without a session", chromedp.Navigate(strings.TrimSpace(wallURL)), chromedp.WaitVisible(`[data-testid=wall-seats]`))
	wallTiles := value(t, wall, "count wall tiles", chromedp.Evaluate[int](`document.querySelectorAll('[data-testid=wall-tile]').length`))
	if wallTiles != 4 {
		t.Errorf("the wall shows %d tiles, want 4", wallTiles)
	}
	pcs[2].poll(95)
	run(t, wall, "see the wall tile go red", poll(
		fmt.Sprintf(`document.querySelector('#pc-%d-live [data-testid=wall-tile-body]').dataset.state === "bad"`, int64(pcs[2].id))))
	screenshot(t, wall, "wall.png")

	// A phone shows the room without horizontal scrolling.
	phone := tab(375, 812, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulatePortrait)
	login(t, phone, srv.URL)
	run(t, phone, "open the room on the phone", chromedp.Navigate(srv.URL+"/?room=Lab%201"), chromedp.WaitVisible(`[data-testid=seats]`))
	scrollW := value(t, phone, "measure", chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	clientW := value(t, phone, "measure", chromedp.Evaluate[int](`document.documentElement.clientWidth`))
	if scrollW > clientW {
		t.Errorf("at 375 px the room page is %d px wide: it scrolls sideways", scrollW)
	}
	screenshot(t, phone, "phone-room.png")
}
