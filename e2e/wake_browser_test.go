package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// reportNetwork sends the full heartbeat our agent sends, with the interface that reaches the
// server, as our agent (its User-Agent): what makes a PC a relay for Wake-on-LAN.
func (p *fakePC) reportNetwork(mac, subnet string) {
	p.srv.t.Helper()
	body, _ := json.Marshal(map[string]any{"machine_id": p.machineID, "full_update": true, "system_info": map[string]any{
		"cpu_usage": 5.0, "current_user": "", "mac_address": mac, "subnet": subnet}})
	req, _ := http.NewRequest("POST", p.srv.URL+"/api/client/heartbeat", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+p.token)
	req.Header.Set("User-Agent", "wcms-agent/1.0.0 (windows; amd64)")
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		p.srv.t.Fatalf("full heartbeat of %s: %v %v", p.machineID, res, err)
	}
	res.Body.Close()
}

// TestRoomWakeAndPlanInBrowser: a room of 48 PCs, two on. From a phone, one tap wakes the room:
// the answer says 46 are being woken through the two PCs on; on the desk's 1920×1080 screen
// every tile says waking, and a PC that answers turns awake live. The relays get the magic
// packets to send. Then the phone opens tonight's plan in one tap, the desk adds a shutdown, and
// the plan lists what happens to each of the 48 PCs.
func TestRoomWakeAndPlanInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("runs chromium")
	}
	tab := browser(t)
	srv := startServer(t, "-timezone", "Asia/Seoul", "-wake-limit", "1m")
	pin := srv.newPIN("multi", 600)
	srv.api("POST", "/api/admin/rooms", map[string]any{"name": "LAB", "rows": 6, "cols": 8})
	var pcs []*fakePC
	for i := range 48 {
		p := srv.fakePC(pin, fmt.Sprintf("LAB-%02d", i+1))
		p.reportNetwork(fmt.Sprintf("02:00:00:00:00:%02X", i+1), fmt.Sprintf("10.20.0.%d/24", i+10))
		srv.api("PUT", "/api/admin/pc/"+strconv.Itoa(int(p.id))+"/seat", map[string]any{"room": "LAB", "row": i/8 + 1, "col": i%8 + 1})
		if i >= 2 {
			srv.agentCall(p.token, "/api/client/offline", map[string]any{"machine_id": p.machineID}, nil)
		}
		pcs = append(pcs, p)
	}
	// The two PCs on keep polling, as agents do, and keep what they are handed.
	var mu sync.Mutex
	var handed []map[string]any
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			for _, p := range pcs[:2] {
				if cmd := p.poll(5); cmd != nil {
					mu.Lock()
					handed = append(handed, cmd)
					mu.Unlock()
				}
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Second):
			}
		}
	}()
	defer func() { close(stop); wg.Wait() }()

	phone := tab(375, 812, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulatePortrait)
	desk := tab(1920, 1080)
	login(t, phone, srv.URL)
	login(t, desk, srv.URL)
	room := srv.URL + "/?room=LAB"
	run(t, desk, "the desk opens the room", chromedp.Navigate(room), chromedp.WaitVisible(`[data-testid=seats]`))
	run(t, phone, "the phone opens the room", chromedp.Navigate(room), chromedp.WaitVisible(`[data-testid=wake-room]`))
	time.Sleep(300 * time.Millisecond) // the desk's stream has connected

	// Thumb-sized, and in view without scrolling.
	box := value(t, phone, "the wake button's box", chromedp.Evaluate[[]float64](
		`(() => { const r = document.querySelector('[data-testid=wake-room]').getBoundingClientRect(); return [r.top, r.bottom, r.height]; })()`))
	if box[2] < 44 || box[0] < 0 || box[1] > 812 {
		t.Errorf("the phone's wake button: top %.0f, bottom %.0f, height %.0f; want in view and 44 px or taller", box[0], box[1], box[2])
	}
	run(t, phone, "one tap wakes the room", chromedp.Click(`[data-testid=wake-room]`), chromedp.WaitVisible(`[data-testid=wake-waking]`))
	if got := value(t, phone, "the answer", chromedp.Evaluate[string](`document.querySelector('[data-testid=wake-waking]').textContent`)); !strings.Contains(got, "46") {
		t.Errorf("the phone's answer: %q, want 46 PCs waking", got)
	}
	run(t, desk, "every tile of a PC off says waking, live",
		poll(`document.querySelectorAll('[data-testid=tile-wake][data-wake=waking]').length === 46`))
	screenshot(t, desk, "wake-room-1920.png")

	// LAB-07 answers: its tile turns awake, with how long it took.
	pcs[6].poll(3)
	run(t, desk, "LAB-07 awake on its tile",
		poll(fmt.Sprintf(`document.querySelector('[data-testid=tile][data-pc-id="%d"] [data-wake=awake]') !== null`, int(pcs[6].id))))
	waitFor(t, "the relays' magic packets", 10*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(handed) >= 2
	})
	mu.Lock()
	for _, cmd := range handed[:2] {
		params, _ := cmd["parameters"].(map[string]any)
		macs, _ := params["macs"].(string)
		if cmd["type"] != "wake_on_lan" || strings.Count(macs, ",") != 45 || params["broadcast"] != "10.20.0.255" {
			t.Errorf("a relay was handed %v, want wake_on_lan for 46 MACs to 10.20.0.255", cmd)
		}
	}
	mu.Unlock()

	// Tonight's plan, one tap from the room on the phone; the desk adds a shutdown.
	run(t, phone, "the phone opens tonight's plan", chromedp.Navigate(room), chromedp.WaitVisible(`[data-testid=timetable-link]`),
		chromedp.Click(`[data-testid=timetable-link]`), chromedp.WaitVisible(`[data-testid=plan-empty]`))
	seoul, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().In(seoul).Add(90 * time.Minute)
	// The PCs the plan names, grouped by what happens to them.
	planned := `[...document.querySelectorAll('[data-testid=plan-pc]')].reduce((n, r) => n + r.dataset.hostnames.split(' ').length, 0)`
	run(t, desk, "the desk adds tonight's shutdown",
		chromedp.Navigate(srv.URL+"/timetable?room=LAB"),
		chromedp.WaitVisible(`[data-testid=entry-form]`),
		eval(`document.querySelectorAll('[data-testid=entry-form] [name=days]').forEach(b => b.checked = true)`),
		chromedp.SetValue(`[data-testid=entry-at]`, at.Format("15:04")),
		chromedp.SetValue(`[data-testid=entry-final]`, at.Add(time.Hour).Format("15:04")),
		chromedp.Click(`[data-testid=entry-add]`),
		poll(planned+` === 48`),
	)
	run(t, phone, "the phone's plan names every PC, with no sideways scrolling",
		chromedp.Reload(), chromedp.WaitVisible(`[data-testid=plan-pcs]`),
		poll(planned+` === 48`),
		poll(`document.documentElement.scrollWidth <= window.innerWidth`))
	outcome := func(host string) string {
		return value(t, phone, "the plan of "+host, chromedp.Evaluate[string](fmt.Sprintf(
			`[...[...document.querySelectorAll('[data-testid=plan-pc]')].find(r => r.dataset.hostnames.split(' ').includes(%q)).querySelectorAll('[data-testid=plan-item]')].map(i => i.dataset.outcome).join(',')`, host)))
	}
	if got := outcome("LAB-01"); got != "nobody,shut down,off" {
		t.Errorf("LAB-01 (on, nobody logged in): %q, want no warning, shut down, then off", got)
	}
	if got := outcome("LAB-30"); got != "off" {
		t.Errorf("LAB-30 (off): %q, want off", got)
	}
	screenshot(t, phone, "timetable-375.png")
}
