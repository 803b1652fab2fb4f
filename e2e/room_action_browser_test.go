package e2e

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// roomGrace is the server's grace period for room power actions in this test.
const roomGrace = 3 * time.Second

// operator creates an operator account and makes its forced first password change over HTTP,
// so its browser lands on the rooms; it returns the password to sign in with.
func (s *server) operator(name string) string {
	s.t.Helper()
	first, next := name+"-first-password-1", name+"-password-123"
	s.api("POST", "/api/admin/accounts", map[string]any{"username": name, "password": first, "role": "operator"})
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.PostForm(s.URL+"/login", url.Values{"username": {name}, "password": {first}})
	if err != nil {
		s.t.Fatal(err)
	}
	res.Body.Close()
	u, _ := url.Parse(s.URL)
	csrf := ""
	for _, ck := range jar.Cookies(u) {
		if ck.Name == "csrf_token" {
			csrf = ck.Value
		}
	}
	if err := send(c, "POST", s.URL+"/api/admin/password", "", csrf, map[string]any{"current_password": first, "new_password": next}, nil); err != nil {
		s.t.Fatalf("%s's first password change: %v", name, err)
	}
	return next
}

// loginAs signs a browser in as name.
func loginAs(t *testing.T, ctx context.Context, base, name, password string) {
	t.Helper()
	run(t, ctx, "log in as "+name,
		chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(`[data-testid=login-username]`, name),
		chromedp.SendKeys(`[data-testid=login-password]`, password),
		chromedp.Click(`[data-testid=login-submit]`),
		chromedp.WaitVisible(`[data-testid=room]`),
	)
}

// TestRoomShutdownInBrowser: browser A shuts a room down and leaves the page at once; the
// server sends it after the grace period all the same, while browser B (another operator)
// watches the countdown. Then A schedules again, B cancels, A's reopened page says who
// cancelled, and no PC ever receives it.
func TestRoomShutdownInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("runs chromium")
	}
	tab := browser(t)
	srv := startServer(t, "-room-grace", roomGrace.String())
	leePassword := srv.operator("lee")
	pin := srv.newPIN("multi", 600)
	srv.api("POST", "/api/admin/rooms", map[string]any{"name": "ENG301", "rows": 1, "cols": 3})
	var pcs []*fakePC
	for i, host := range []string{"ENG301-01", "ENG301-02", "ENG301-03"} {
		p := srv.fakePC(pin, host)
		p.poll(10)
		srv.api("PUT", "/api/admin/pc/"+strconv.FormatInt(int64(p.id), 10)+"/seat", map[string]any{"room": "ENG301", "row": 1, "col": i + 1})
		pcs = append(pcs, p)
	}
	room := srv.URL + "/?room=ENG301"

	a, b := tab(1280, 900), tab(375, 812, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulatePortrait)
	login(t, a, srv.URL)
	loginAs(t, b, srv.URL, "lee", leePassword)
	run(t, b, "B opens the room", chromedp.Navigate(room), chromedp.WaitVisible(`[data-testid=seats]`))
	time.Sleep(300 * time.Millisecond) // B's stream has connected

	// scheduleAndLeave has A shut the room down from its page and go elsewhere at once.
	scheduleAndLeave := func() {
		t.Helper()
		run(t, a, "A shuts the room down and leaves",
			chromedp.Navigate(room),
			chromedp.WaitVisible(`[data-testid=shutdown-room]`),
			eval(`window.confirm = () => true`), // the form's hx-confirm dialog: accepted
			chromedp.Click(`[data-testid=shutdown-room]`),
			chromedp.WaitVisible(`[data-testid=command-submit]`),
			// htmx takes the new form over when it settles; a click before would submit it natively.
			poll(`document.querySelector('.htmx-added') === null`),
			chromedp.Click(`[data-testid=command-submit]`),
			chromedp.WaitVisible(`#room-actions [data-state=scheduled] [data-testid=room-action-countdown]`),
			chromedp.Navigate(srv.URL+"/status"),
		)
	}
	countdown := `document.querySelector('#room-actions [data-state=scheduled] [data-testid=room-action-countdown]')`
	// seconds reads B's countdown once it shows, live, without a reload.
	seconds := func() int {
		t.Helper()
		run(t, b, "B sees the countdown", poll(countdown+` !== null`))
		n, err := strconv.Atoi(strings.TrimSpace(value(t, b, "read the countdown", chromedp.Evaluate[string](countdown+`.textContent`))))
		if err != nil {
			t.Fatalf("countdown: %v", err)
		}
		return n
	}

	t.Run("sent after the grace period", func(t *testing.T) {
		scheduleAndLeave()
		first := seconds()
		if first < 1 || first > int(roomGrace.Seconds()) {
			t.Errorf("B's countdown shows %d, want 1..%d", first, int(roomGrace.Seconds()))
		}
		time.Sleep(1500 * time.Millisecond)
		if later := seconds(); later >= first {
			t.Errorf("the countdown did not tick: %d then %d", first, later)
		}
		for _, p := range pcs {
			var cmd map[string]any
			waitFor(t, p.machineID+"'s shutdown", 10*time.Second, func() bool {
				time.Sleep(time.Second) // the agents' poll rate
				cmd = p.poll(10)
				return cmd != nil
			})
			if cmd["type"] != "shutdown" {
				t.Errorf("%s got %v, want the shutdown", p.machineID, cmd)
			}
		}
		run(t, b, "B sees it sent", poll(`[...document.querySelectorAll('#room-actions [data-state=sent]')].some(r => r.textContent.includes("PC 3대에 보냈습니다"))`))
	})

	t.Run("cancelled from another device", func(t *testing.T) {
		scheduleAndLeave()
		seconds()
		run(t, b, "B cancels", chromedp.Click(`#room-actions [data-state=scheduled] [data-testid=room-action-cancel]`),
			poll(`document.querySelector('#room-actions [data-state=scheduled]') === null`))
		cancelled := `[...document.querySelectorAll('#room-actions [data-state=cancelled]')].some(r => r.textContent.includes("lee 님이"))`
		run(t, a, "A reopens the room", chromedp.Navigate(room), chromedp.WaitVisible(`[data-testid=seats]`), poll(cancelled))
		time.Sleep(roomGrace + time.Second)
		for _, p := range pcs {
			if cmd := p.poll(10); cmd != nil {
				t.Errorf("%s received %v after the cancel", p.machineID, cmd)
			}
		}
	})
}
