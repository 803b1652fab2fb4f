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
	"syscall"
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

// screenshot saves the page, whole unless shot says otherwise, in a temporary directory or with
// -screenshots in docs/screenshots.
func screenshot(t *testing.T, ctx context.Context, name string, shot ...chromedp.Action[[]byte]) {
	t.Helper()
	shot = append(shot, chromedp.FullScreenshot(100))
	png := value(t, ctx, "screenshot "+name, shot[0])
	dir := t.TempDir()
	if *updateScreenshots {
		dir = filepath.Join(root(t), "docs", "screenshots")
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// layoutJS measures a page as a person would see it; report(tile, name) answers, for the tiles
// matching tile and the name element in each:
//   - names: each tile's name as drawn, "" when cut (ellipsis or overflow);
//   - outside: tiles with content drawn outside them, or tiles outside the viewport's width;
//   - wraps: labels (badges, buttons, tabs, names, headings) with a word broken across lines;
//   - the page's scroll and client sizes, and the name's font size in px.
const layoutJS = `window.report = (tile, name) => {
  const r = { names: [], outside: [], wraps: [], fontPx: 0 };
  const vw = document.documentElement.clientWidth;
  for (const t of document.querySelectorAll(tile)) {
    const n = t.querySelector(name);
    const cut = n.scrollWidth > n.clientWidth + 1;
    r.names.push(cut ? "" : n.textContent.trim());
    r.fontPx = parseFloat(getComputedStyle(n).fontSize);
    const box = t.getBoundingClientRect();
    if (box.left < -1 || box.right > vw + 1) r.outside.push(t.id + " beyond the viewport");
    for (const el of t.querySelectorAll("*")) {
      const b = el.getBoundingClientRect();
      if (b.width === 0 || b.height === 0 || getComputedStyle(el).position === "absolute") continue;
      if (b.left < box.left - 1 || b.right > box.right + 1 || b.top < box.top - 1 || b.bottom > box.bottom + 1)
        r.outside.push(t.id + " " + el.tagName + "." + el.className);
    }
  }
  const labels = ".badge, button, .btn, .room-tab, h1, th, label, .live-status, [data-testid=tile-hostname], [data-testid=wall-hostname], .wall-head span";
  for (const el of document.querySelectorAll(labels)) {
    if (el.getClientRects().length === 0) continue;
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let node; (node = walker.nextNode()); ) {
      for (const m of node.textContent.matchAll(/\S+/g)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const tops = new Set([...range.getClientRects()].map((b) => Math.round(b.top)));
        if (tops.size > 1) r.wraps.push(m[0] + " in " + el.tagName + "." + el.className);
      }
    }
  }
  r.scrollW = document.documentElement.scrollWidth;
  r.clientW = vw;
  r.scrollH = document.documentElement.scrollHeight;
  r.clientH = document.documentElement.clientHeight;
  return r;
}`

type layoutReport struct {
	Names            []string `json:"names"`
	Outside          []string `json:"outside"`
	Wraps            []string `json:"wraps"`
	FontPx           float64  `json:"fontPx"`
	ScrollW, ClientW int
	ScrollH, ClientH int
}

// checkLayout fails the test for what a person at that screen would see wrong: tiles whose
// names are cut or alike, content outside its tile, words broken across lines, a page wider
// than the screen.
func checkLayout(t *testing.T, ctx context.Context, what, tile, name string, want int) layoutReport {
	t.Helper()
	run(t, ctx, what+": fonts", eval(layoutJS), chromedp.Evaluate[chromedp.Void](`document.fonts.ready.then(() => true)`, chromedp.EvalAwaitPromise))
	r := value(t, ctx, what+": measure", chromedp.Evaluate[layoutReport](fmt.Sprintf(`report(%q, %q)`, tile, name)))
	seen := map[string]bool{}
	for _, n := range r.Names {
		if n == "" || seen[n] {
			t.Errorf("%s: a tile's name is cut or not distinct: %q", what, r.Names)
			break
		}
		seen[n] = true
	}
	if len(r.Names) != want {
		t.Errorf("%s: %d tiles, want %d", what, len(r.Names), want)
	}
	if len(r.Outside) > 0 {
		t.Errorf("%s: content outside its tile or the screen: %q", what, r.Outside[:min(5, len(r.Outside))])
	}
	if len(r.Wraps) > 0 {
		t.Errorf("%s: words broken across lines: %q", what, r.Wraps[:min(5, len(r.Wraps))])
	}
	if r.ScrollW > r.ClientW {
		t.Errorf("%s: the page is %d px wide on a %d px screen: it scrolls sideways", what, r.ScrollW, r.ClientW)
	}
	t.Logf("%s: names %q… at %.0f px", what, r.Names[:min(3, len(r.Names))], r.FontPx)
	return r
}

// TestDashboardAtRoomSizes drives the dashboard in headless chromium against the real server,
// with a room as labs have them: 48 PCs, ENG301-PC01…48 on a 6 × 8 grid, at the screens it is
// used on: a desk (1920 × 1080, and a 1366 × 768 laptop), a wall (1920 × 1080 and 3840 × 2160) and a phone (375 × 812).
func TestDashboardAtRoomSizes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs chromium")
	}
	tab := browser(t)
	srv := startServer(t, "-offline-after", "10m") // the fake PCs report once; they go off when the test says
	pin := srv.newPIN("multi", 600)
	srv.api("POST", "/api/admin/rooms", map[string]any{"name": "ENG301", "rows": 6, "cols": 8})
	srv.api("POST", "/api/admin/rooms", map[string]any{"name": "ENG302", "rows": 2, "cols": 2})
	var pcs []*fakePC
	for i := range 48 {
		p := srv.fakePC(pin, fmt.Sprintf("ENG301-PC%02d", i+1))
		p.poll(float64((i * 37) % 100)) // every load band, in no order
		srv.api("PUT", fmt.Sprintf("/api/admin/pc/%d/seat", int64(p.id)), map[string]any{"room": "ENG301", "row": 1 + i/8, "col": 1 + i%8})
		pcs = append(pcs, p)
	}
	kiosk := srv.fakePC(pin, strings.Repeat("3f9a", 16)) // not placed yet; a 64-character machine id, as agents make
	kiosk.poll(5)

	desk := tab(1920, 1080)
	login(t, desk, srv.URL)
	run(t, desk, "open the room", chromedp.Navigate(srv.URL+"/?room=ENG301"), chromedp.WaitVisible(`[data-testid=seats]`),
		eval(`window.notReloaded = true`))
	r := checkLayout(t, desk, "desk 1920", `[data-testid=tile]`, `[data-testid=tile-hostname]`, 48)
	if r.Names[0] != "PC01" || r.Names[47] != "PC48" {
		t.Errorf("desk: tiles named %q…%q, want PC01…PC48 under the room's prefix", r.Names[0], r.Names[47])
	}
	if prefix := value(t, desk, "read the prefix", chromedp.Text(`[data-testid=room-prefix]`)); !strings.Contains(prefix, "ENG301-") {
		t.Errorf("the header says %q, want the shared prefix ENG301-", prefix)
	}
	if title := value(t, desk, "read a tile's title", chromedp.Evaluate[string](`document.querySelector('[data-testid=tile]').title`)); !strings.HasPrefix(title, "ENG301-PC01 · 에이전트 ") {
		t.Errorf("the first tile's title is %q, want the whole hostname and its agent", title)
	}
	wide := value(t, desk, "measure the seats", chromedp.Evaluate[float64](`document.querySelector('[data-testid=seats]').getBoundingClientRect().width`))
	if wide < 1500 {
		t.Errorf("the seats take %.0f px of a 1920 px screen", wide)
	}

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
	if status := value(t, desk, "read the live status", chromedp.Evaluate[string](`document.documentElement.dataset.live`)); status != "ok" {
		t.Errorf("a live room page says its stream is %q", status)
	}
	screenshot(t, desk, "desktop-room.png")

	laptop := tab(1366, 768) // the school laptop
	login(t, laptop, srv.URL)
	run(t, laptop, "open the room on a laptop", chromedp.Navigate(srv.URL+"/?room=ENG301"), chromedp.WaitVisible(`[data-testid=seats]`))
	checkLayout(t, laptop, "laptop 1366", `[data-testid=tile]`, `[data-testid=tile-hostname]`, 48)

	// Signed in at the loopback address, the PIN page says PCs cannot reach it, and how to fix it.
	run(t, desk, "open the PIN page", chromedp.Navigate(srv.URL+"/pins"), chromedp.WaitVisible(`[data-testid=install-url-warning]`))
	if w := value(t, desk, "read the warning", chromedp.Text(`[data-testid=install-url-warning]`)); !strings.Contains(w, "-public-url") {
		t.Errorf("the PIN page's warning %q does not say how to fix it", w)
	}

	wallURL := wallLink(t, desk, srv.URL, "ENG301")
	run(t, desk, "back to the room", chromedp.Navigate(srv.URL+"/?room=ENG301"), chromedp.WaitVisible(`[data-testid=seats]`))
	wall := tab(1920, 1080)
	run(t, wall, "open the wall without a session", chromedp.Navigate(wallURL), chromedp.WaitVisible(`[data-testid=wall-seats]`))
	checkWall(t, wall, "wall 1920", 48)
	wall4k := tab(3840, 2160)
	run(t, wall4k, "open the wall on a 4K screen", chromedp.Navigate(wallURL), chromedp.WaitVisible(`[data-testid=wall-seats]`))
	checkWall(t, wall4k, "wall 3840", 96)

	phone := tab(375, 812, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulatePortrait)
	login(t, phone, srv.URL)
	run(t, phone, "open the room on the phone", chromedp.Navigate(srv.URL+"/?room=ENG301"), chromedp.WaitVisible(`[data-testid=seats]`))
	checkLayout(t, phone, "phone 375", `[data-testid=tile]`, `[data-testid=tile-hostname]`, 48)
	shut := value(t, phone, "find the room's shutdown", chromedp.Evaluate[[]float64](
		`(b => [b.top, b.bottom, b.height, innerHeight])(document.querySelector('[data-testid=shutdown-room]').getBoundingClientRect())`))
	if shut[1] > shut[3] || shut[0] < shut[3]-120 || shut[2] < 44 {
		t.Errorf("on the phone the room's shutdown is at %.0f–%.0f px of %.0f, %.0f px tall: want it at the bottom of the screen, a thumb's size", shut[0], shut[1], shut[3], shut[2])
	}
	screenshot(t, phone, "phone-room.png", chromedp.CaptureScreenshot()) // what the thumb sees, the action bar at the bottom
	run(t, phone, "open a PC on the phone", chromedp.Navigate(fmt.Sprintf("%s/pc/%d", srv.URL, int64(kiosk.id))), chromedp.WaitVisible(`[data-testid=pc-detail]`))
	if w := value(t, phone, "measure the PC page", chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 375 {
		wide := value(t, phone, "find what is wide", chromedp.Evaluate[[]string](`[...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > 376).map(e => e.tagName + "." + e.className + "#" + (e.dataset.testid || "")).slice(-6)`))
		t.Errorf("the PC page is %d px wide on a 375 px phone: %q", w, wide)
	}
	run(t, phone, "back to the room on the phone", chromedp.Navigate(srv.URL+"/?room=ENG301"), chromedp.WaitVisible(`[data-testid=seats]`))

	status := tab(1280, 800)
	login(t, status, srv.URL)
	run(t, status, "open the status page", chromedp.Navigate(srv.URL+"/status"), chromedp.WaitVisible(`[data-testid=status-numbers]`))

	// A PC goes off: its tile, the room's counts and its tab change on every screen, live.
	srv.agentCall(pcs[5].token, "/api/client/shutdown", map[string]any{"machine_id": pcs[5].machineID}, nil)
	for _, s := range []struct {
		name string
		ctx  context.Context
		want string
	}{
		{"desk counts", desk, `document.querySelector('[data-testid=count-offline]').textContent.includes("1")`},
		{"desk tab", desk, `document.querySelector('[data-testid=room-tab][data-room=ENG301] [data-testid=room-tab-count]').textContent.trim() === "47/48"`},
		{"phone counts", phone, `document.querySelector('[data-testid=count-online]').textContent.includes("47")`},
		{"wall counts", wall, `document.querySelector('[data-testid=wall-offline]').textContent.includes("1")`},
		{"wall tile", wall, fmt.Sprintf(`document.querySelector('#pc-%d-live [data-testid=wall-tile-body]').dataset.state === "off"`, int64(pcs[5].id))},
	} {
		run(t, s.ctx, s.name+" after a PC went off", poll(s.want))
	}
	run(t, status, "status page after a PC went off", chromedp.Poll[chromedp.Void](
		`document.querySelector('[data-testid=stat-offline-value]').textContent.trim() === "1"`,
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(8*time.Second)))

	desktopCommands(t, desk, pcs)

	// A stale wall never looks live: a server that stops answering (frozen, its connection
	// still open) is seen within the page's 25 s, a connection that drops at once.
	srv.proc.freeze()
	stopped := time.Now()
	lost := `document.documentElement.dataset.live === "lost" && getComputedStyle(document.querySelector('[data-testid=wall-lost]')).visibility === "visible"`
	run(t, wall, "the wall says it is stale", chromedp.Poll[chromedp.Void](lost,
		chromedp.WithPollingInterval(200*time.Millisecond), chromedp.WithPollingTimeout(40*time.Second)))
	t.Logf("a frozen server's wall said it was stale after %v", time.Since(stopped).Round(time.Second))
	screenshot(t, wall, "wall-lost.png")
	srv.proc.thaw()
	run(t, wall, "the wall is live again", chromedp.Poll[chromedp.Void](`document.documentElement.dataset.live === "ok"`,
		chromedp.WithPollingInterval(200*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second)))
	srv.proc.signal(syscall.SIGKILL)
	run(t, wall, "the wall says the server is gone", chromedp.Poll[chromedp.Void](lost,
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(5*time.Second)))
}

// checkWall checks a wall at its screen's size: every tile's name distinct and at least minPx
// high, the grid filling the screen with no scrolling, the clock and freshness shown, the
// shipped Korean font in use.
func checkWall(t *testing.T, ctx context.Context, what string, minPx float64) {
	t.Helper()
	r := checkLayout(t, ctx, what, `[data-testid=wall-tile]`, `[data-testid=wall-hostname]`, 48)
	if r.FontPx < minPx {
		t.Errorf("%s: names at %.0f px, want at least %.0f", what, r.FontPx, minPx)
	}
	if r.ScrollH > r.ClientH {
		t.Errorf("%s: the wall is %d px high on a %d px screen", what, r.ScrollH, r.ClientH)
	}
	used := value(t, ctx, what+": measure the seats", chromedp.Evaluate[float64](
		`(b => b.width * b.height / (innerWidth * innerHeight))(document.querySelector('[data-testid=wall-seats]').getBoundingClientRect())`))
	if used < 0.85 {
		t.Errorf("%s: the seats use %.0f%% of the screen, want at least 85%%", what, used*100)
	}
	run(t, ctx, what+": live", poll(`document.documentElement.dataset.live === "ok" && /\d/.test(document.querySelector('[data-testid=live-status]').textContent)`))
	if !value(t, ctx, what+": font", chromedp.Evaluate[bool](`document.fonts.check('700 48px "Noto Sans KR Variable"', '켜짐') && [...document.fonts].some(f => f.family.includes("Noto Sans KR") && f.status === "loaded")`)) {
		t.Errorf("%s: the shipped Korean font is not in use", what)
	}
	t.Logf("%s: seats use %.0f%% of the screen", what, used*100)
	screenshot(t, ctx, strings.ReplaceAll(what, " ", "-")+".png")
}

// wallLink creates a read-only wall link for room and returns it.
func wallLink(t *testing.T, ctx context.Context, base, room string) string {
	t.Helper()
	run(t, ctx, "create a wall link",
		chromedp.Navigate(base+"/walls?room="+room),
		chromedp.SendKeys(`[name=label]`, "front screen"),
		chromedp.Click(`[data-testid=wall-create-submit]`),
		chromedp.WaitVisible(`[data-testid=wall-new-url]`),
	)
	return strings.TrimSpace(value(t, ctx, "read the link", chromedp.Text(`[data-testid=wall-new-url]`)))
}

// desktopCommands selects PCs and sends them a command from the room page at a desk.
func desktopCommands(t *testing.T, desk context.Context, pcs []*fakePC) {
	t.Helper()
	// "Select all online" checks exactly the online PCs' boxes; "Clear" unchecks them.
	checked := `document.querySelectorAll('input[name=pc_ids]:checked').length`
	online := `document.querySelectorAll('[data-testid=tile-body]:not([data-state=off])').length`
	run(t, desk, "select all online", chromedp.Click(`[data-testid=select-online]`))
	nChecked := value(t, desk, "count checked", chromedp.Evaluate[int](checked))
	nOnline := value(t, desk, "count online", chromedp.Evaluate[int](online))
	if nChecked != nOnline || nOnline != 47 {
		t.Errorf("select all online checked %d boxes, %d PCs are online (want 47)", nChecked, nOnline)
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
}
