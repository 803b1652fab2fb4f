package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

// admPage checks an answer is the whole page (or, for htmx, the fragment alone) with panel.
func admPage(t testing.TB, r response, hx bool, panel string) *html.Node {
	t.Helper()
	r.must(t, 200)
	if full := !isFragment(r); full == hx {
		t.Fatalf("htmx %v, but whole page %v: %.300s", hx, full, r.Raw)
	}
	if r.Header.Get("Vary") != "HX-Request" {
		t.Errorf("Vary %q", r.Header.Get("Vary"))
	}
	doc := htmlDoc(t, r)
	byTestID(t, doc, panel)
	if hx {
		byTestID(t, doc, "flash-clear")
	}
	return doc
}

// admRefused checks an htmx action's refusal: the status, and the reason in #flash.
func admRefused(t testing.TB, r response, status int, mentions string) {
	t.Helper()
	if r.Status != status || r.Header.Get("HX-Retarget") != "#flash" {
		t.Errorf("got %d (retarget %q), want %d in #flash: %.300s", r.Status, r.Header.Get("HX-Retarget"), status, r.Raw)
		return
	}
	flash := byTestID(t, htmlDoc(t, r), "error-flash")
	if attr(flash, "data-status") != fmt.Sprint(status) || !strings.Contains(textOf(flash), mentions) {
		t.Errorf("flash %q (status %s), want it to mention %q", textOf(flash), attr(flash, "data-status"), mentions)
	}
	// A Korean page (its status title is Korean) says it all in Korean.
	if english := englishProse(textOf(flash)); hasHangul(textOf(flash)) && len(english) > 0 {
		t.Errorf("the Korean flash %q has English: %q", textOf(flash), english)
	}
}

// admUnchanged runs fn and fails when the database changed.
func admUnchanged(t *testing.T, ts *testServer, fn func()) {
	t.Helper()
	db, _ := openDB(t, ts)
	before := settle(t, ts, db)
	fn()
	if d := diffDumps(before, settle(t, ts, db)); d != "" {
		t.Errorf("the database changed:\n%s", d)
	}
}

// admForbidden checks that each client is refused each request with 403.
func admForbidden(t *testing.T, who map[string]*admin, reqs [][2]string) {
	t.Helper()
	for name, a := range who {
		for _, r := range reqs {
			if res := a.form(r[0], r[1], url.Values{"room": {"x"}}, true); res.Status != http.StatusForbidden {
				t.Errorf("%s: %s %s: %d, want 403", name, r[0], r[1], res.Status)
			}
		}
	}
}

func TestForcedPasswordChange(t *testing.T) {
	ts := newTestServer(t)
	a := ts.admin()
	const first, chosen = "fresh first password", "fresh chosen password"
	a.do("POST", "/api/admin/accounts", map[string]any{"username": "fresh", "password": first, "role": "admin"}).must(t, 200)
	u := ts.login("fresh", first)

	for _, path := range []string{"/", "/pins", "/layout", "/accounts", "/layout?room=x&row=1&col=1"} {
		if res := u.do("GET", path, nil); res.Status != http.StatusSeeOther || res.Header.Get("Location") != "/password" {
			t.Errorf("GET %s: %d to %q, want 303 to /password", path, res.Status, res.Header.Get("Location"))
		}
	}
	if res := u.form("POST", "/pins", url.Values{"usage_type": {"single"}, "expires_in": {"600"}}, true); res.Header.Get("HX-Redirect") != "/password" {
		t.Errorf("htmx action: %d, HX-Redirect %q", res.Status, res.Header.Get("HX-Redirect"))
	}
	if n := len(a.do("GET", "/api/admin/registration-tokens", nil).must(t, 200).get("tokens").([]any)); n != 0 {
		t.Fatalf("a must-change account created a PIN (%d)", n)
	}
	// The JSON API is held too, with an error instead of a redirect.
	checkEnvelope(t, u.do("GET", "/api/admin/pcs", nil), 403, "PASSWORD_CHANGE_REQUIRED")
	doc := htmlDoc(t, u.do("GET", "/password", nil).must(t, 200))
	byTestID(t, doc, "password-forced")

	submit := func(vals url.Values) response {
		t.Helper()
		return u.sendForm("POST", "/password", vals)
	}
	form := func(current, pw, repeat string) url.Values {
		return url.Values{"csrf_token": {u.csrf}, "current_password": {current}, "new_password": {pw}, "repeat_password": {repeat}}
	}
	refused := []struct {
		name     string
		vals     url.Values
		status   int
		mentions string
	}{
		{"repeat differs", form(first, chosen, chosen+"x"), 400, "다릅니다"},
		{"wrong current password", form("not my password", chosen, chosen), 403, "현재 비밀번호가 틀렸습니다"},
		{"too short", form(first, "short", "short"), 400, "10자 이상"},
		{"unchanged", form(first, first, first), 400, "지금 비밀번호와 달라야"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			admUnchanged(t, ts, func() {
				res := submit(tt.vals)
				if res.Status != tt.status {
					t.Fatalf("%d, want %d: %.300s", res.Status, tt.status, res.Raw)
				}
				doc := htmlDoc(t, res)
				if got := textOf(byTestID(t, doc, "password-error")); !strings.Contains(got, tt.mentions) {
					t.Errorf("error %q, want it to mention %q", got, tt.mentions)
				}
				byTestID(t, doc, "password-form")
			})
		})
	}
	t.Run("no CSRF token", func(t *testing.T) {
		admUnchanged(t, ts, func() {
			vals := form(first, chosen, chosen)
			vals.Del("csrf_token")
			if res := submit(vals); res.Status != http.StatusForbidden {
				t.Errorf("%d, want 403", res.Status)
			}
		})
	})

	res := submit(form(first, chosen, chosen))
	if res.Status != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		t.Fatalf("change: %d to %q: %.300s", res.Status, res.Header.Get("Location"), res.Raw)
	}
	byTestID(t, htmlDoc(t, u.do("GET", "/", nil).must(t, 200)), "topbar")
	if doc := htmlDoc(t, u.do("GET", "/password", nil).must(t, 200)); len(byTestIDAll(doc, "password-forced")) != 0 {
		t.Error("still told to change the password")
	}
	if r := loginRaw(t, ts, "fresh", first); r.Header.Get("Location") != "/login" {
		t.Error("the first password still signs in")
	}
	ts.login("fresh", chosen)
}

// Any account may change its password on the page, also when nothing forces it to.
func TestPasswordPageVoluntary(t *testing.T) {
	ts := newTestServer(t)
	view := ts.account(ts.admin(), "view", "viewer")
	doc := htmlDoc(t, view.do("GET", "/password", nil).must(t, 200))
	if len(byTestIDAll(doc, "password-forced")) != 0 {
		t.Error("a free account is told it must change its password")
	}
	vals := url.Values{"csrf_token": {view.csrf}, "current_password": {"view password 123"},
		"new_password": {"view newer password"}, "repeat_password": {"view newer password"}}
	res := view.sendForm("POST", "/password", vals)
	if res.Status != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		t.Fatalf("%d to %q", res.Status, res.Header.Get("Location"))
	}
	view.do("GET", "/api/admin/pcs", nil).must(t, 200) // this session goes on
	ts.login("view", "view newer password")
}

func TestAccountsPage(t *testing.T) {
	ts := newTestServer(t)
	a := ts.admin()
	op, view := ts.account(a, "op", "operator"), ts.account(a, "view", "viewer")

	t.Run("admins only", func(t *testing.T) {
		admUnchanged(t, ts, func() {
			admForbidden(t, map[string]*admin{"operator": op, "viewer": view}, [][2]string{
				{"GET", "/accounts"}, {"POST", "/accounts"}, {"POST", "/accounts/password"}})
		})
	})

	for _, hx := range []bool{false, true} {
		doc := admPage(t, a.page("/accounts", hx), hx, "accounts-panel")
		var names []string
		for _, n := range byTestIDAll(doc, "account-username") {
			names = append(names, textOf(n))
		}
		if strings.Join(names, " ") != "admin op view" {
			t.Errorf("accounts %v", names)
		}
	}

	res := a.form("POST", "/accounts", url.Values{"username": {"new.user"}, "role": {"operator"}, "password": {"new user password"}}, true)
	doc := admPage(t, res, true, "accounts-panel")
	if !strings.Contains(textOf(byTestID(t, doc, "accounts-notice")), "new.user") {
		t.Error("no notice of the new account")
	}
	for _, row := range byTestIDAll(doc, "account") {
		if attr(row, "data-username") == "new.user" && len(byTestIDAll(row, "account-must-change")) != 1 {
			t.Error("the new account is not shown as having to change its password")
		}
	}
	got := map[string]string{}
	for _, acc := range items(t, a.do("GET", "/api/admin/accounts", nil).must(t, 200), "accounts") {
		got[fmt.Sprint(acc["username"])] = fmt.Sprint(acc["role"], " ", acc["must_change_password"])
	}
	if got["new.user"] != "operator true" {
		t.Fatalf("stored accounts %v", got)
	}
	ts.login("new.user", "new user password")

	refused := []struct {
		name     string
		path     string
		vals     url.Values
		status   int
		mentions string
	}{
		{"bad username", "/accounts", url.Values{"username": {hostile}, "role": {"viewer"}, "password": {"long enough pw"}}, 400, "사용자 이름은"},
		{"bad role", "/accounts", url.Values{"username": {"x"}, "role": {"root"}, "password": {"long enough pw"}}, 400, "역할은"},
		{"short password", "/accounts", url.Values{"username": {"x"}, "role": {"viewer"}, "password": {"short"}}, 400, "10자 이상"},
		{"taken username", "/accounts", url.Values{"username": {"op"}, "role": {"viewer"}, "password": {"long enough pw"}}, 409, "이미 있습니다"},
		{"reset of nobody", "/accounts/password", url.Values{"username": {"nobody"}, "new_password": {"long enough pw"}}, 404, "지워졌을 수 있습니다"},
		{"short reset", "/accounts/password", url.Values{"username": {"op"}, "new_password": {"short"}}, 400, "10자 이상"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			admUnchanged(t, ts, func() { admRefused(t, a.form("POST", tt.path, tt.vals, true), tt.status, tt.mentions) })
		})
	}
	t.Run("no CSRF token", func(t *testing.T) {
		admUnchanged(t, ts, func() {
			for _, path := range []string{"/accounts", "/accounts/password"} {
				vals := url.Values{"username": {"op"}, "role": {"viewer"}, "password": {"long enough pw"}, "new_password": {"long enough pw"}}
				if res := a.sendForm("POST", path, vals, "HX-Request", "true"); res.Status != http.StatusForbidden {
					t.Errorf("%s: %d, want 403", path, res.Status)
				}
			}
		})
	})

	doc = admPage(t, a.form("POST", "/accounts/password", url.Values{"username": {"op"}, "new_password": {"op reset password"}}, true), true, "accounts-panel")
	for _, row := range byTestIDAll(doc, "account") {
		if attr(row, "data-username") == "op" && len(byTestIDAll(row, "account-must-change")) != 1 {
			t.Error("a reset account is not shown as having to change its password")
		}
	}
	checkEnvelope(t, op.do("GET", "/api/admin/pcs", nil), 401, "UNAUTHORIZED")
	if r := loginRaw(t, ts, "op", "op own password"); r.Header.Get("Location") != "/login" {
		t.Error("the replaced password still signs in")
	}
	ts.login("op", "op reset password")
}

func TestPINsPage(t *testing.T) {
	ts := newTestServer(t)
	a := ts.admin()
	op, view := ts.account(a, "op", "operator"), ts.account(a, "view", "viewer")
	existing, existingID := ts.pinWithID(a, "single")

	t.Run("operators only", func(t *testing.T) {
		admUnchanged(t, ts, func() {
			admForbidden(t, map[string]*admin{"viewer": view}, [][2]string{
				{"GET", "/pins"}, {"POST", "/pins"}, {"DELETE", "/pins/" + fmt.Sprint(existingID)}})
		})
	})
	for _, hx := range []bool{false, true} {
		r := op.page("/pins", hx)
		doc := admPage(t, r, hx, "pins-panel")
		if rows := byTestIDAll(doc, "pin"); len(rows) != 1 || attr(rows[0], "data-id") != fmt.Sprint(existingID) {
			t.Errorf("listed %d PINs, want id %v", len(rows), existingID)
		}
		if strings.Contains(r.Raw, existing) {
			t.Errorf("the PINs page shows the value of PIN %s after its creation", existing)
		}
	}

	before := time.Now()
	doc := admPage(t, op.form("POST", "/pins", url.Values{"usage_type": {"multi"}, "expires_in": {"3600"}}, true), true, "pins-panel")
	pin := textOf(byTestID(t, doc, "pin-created-token"))
	if !regexp.MustCompile(`^[0-9]{6}$`).MatchString(pin) || attr(byTestID(t, doc, "pin-copy"), "data-copy") != pin {
		t.Fatalf("created PIN %q, copy button %q", pin, attr(byTestID(t, doc, "pin-copy"), "data-copy"))
	}
	want := map[string]string{
		"powershell": `powershell -ExecutionPolicy Bypass -Command "& ([scriptblock]::Create((iwr -UseBasicParsing ` + ts.URL + `/install/install.ps1).Content)) -Pin ` + pin + `"`,
		"cmd":        `curl.exe -fsSLo %TEMP%\wcms-install.cmd ` + ts.URL + `/install/install.cmd && %TEMP%\wcms-install.cmd ` + pin,
		"linux":      "curl -fsSL " + ts.URL + "/install/install.sh | sudo sh -s -- " + pin,
	}
	script := regexp.MustCompile(`http://[^ )]+/install/install\.[a-z0-9]+`)
	for id, line := range want {
		box := byTestID(t, doc, "install-"+id)
		if got := textOf(byTestID(t, box, "install-line")); got != line {
			t.Errorf("%s one-liner\n got %s\nwant %s", id, got, line)
		}
		if got := attr(byTestID(t, box, "install-copy"), "data-copy"); got != line {
			t.Errorf("%s copy button copies %q", id, got)
		}
		// The script the one-liner fetches is there.
		ts.do(nil, "GET", strings.TrimPrefix(script.FindString(line), ts.URL), nil).must(t, 200)
	}
	var listed []string
	for _, row := range byTestIDAll(doc, "pin") {
		listed = append(listed, attr(row, "data-id")+" "+textOf(byTestID(t, row, "pin-created-by")))
	}
	created := strings.Fields(listed[0])[0] // the newest first
	if strings.Join(listed, ",") != created+" op,"+fmt.Sprint(existingID)+" admin" || created == fmt.Sprint(existingID) {
		t.Errorf("listed %v", listed)
	}
	stored := map[string]map[string]any{}
	for _, p := range items(t, a.do("GET", "/api/admin/registration-tokens", nil).must(t, 200), "tokens") {
		stored[fmt.Sprint(p["id"])] = p
	}
	if p := stored[created]; p == nil || p["usage_type"] != "multi" || p["created_by"] != "op" || p["token"] == pin {
		t.Fatalf("stored %v", stored)
	}
	if exp := utcTime(t, stored[created]["expires_at"]); exp.Before(before.Add(time.Hour-time.Second)) || exp.After(time.Now().Add(time.Hour+time.Second)) {
		t.Errorf("expires %v, want an hour from %v", exp, before)
	}

	refused := []struct {
		name     string
		vals     url.Values
		mentions string
	}{
		{"bad usage", url.Values{"usage_type": {"triple"}, "expires_in": {"600"}}, "사용 방식은"},
		{"no lifetime", url.Values{"usage_type": {"single"}}, "유효 시간을(를) 넣으세요"},
		{"lifetime not a number", url.Values{"usage_type": {"single"}, "expires_in": {"soon"}}, "유효 시간은(는) 정수여야"},
		{"lifetime too short", url.Values{"usage_type": {"single"}, "expires_in": {"30"}}, "1분에서 24시간"},
		{"lifetime too long", url.Values{"usage_type": {"single"}, "expires_in": {"86401"}}, "1분에서 24시간"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			admUnchanged(t, ts, func() { admRefused(t, op.form("POST", "/pins", tt.vals, true), 400, tt.mentions) })
		})
	}
	t.Run("no CSRF token", func(t *testing.T) {
		admUnchanged(t, ts, func() {
			for _, r := range [][2]string{{"POST", "/pins"}, {"DELETE", "/pins/" + created}} {
				if res := op.sendForm(r[0], r[1], url.Values{"usage_type": {"single"}, "expires_in": {"600"}}, "HX-Request", "true"); res.Status != http.StatusForbidden {
					t.Errorf("%s %s: %d, want 403", r[0], r[1], res.Status)
				}
			}
		})
	})

	doc = admPage(t, op.form("DELETE", "/pins/"+created, nil, true), true, "pins-panel")
	if rows := byTestIDAll(doc, "pin"); len(rows) != 1 || attr(rows[0], "data-id") != fmt.Sprint(existingID) || len(byTestIDAll(doc, "pin-created")) != 0 {
		t.Errorf("after revoking, %d rows", len(rows))
	}
	checkEnvelope(t, ts.do(nil, "POST", "/api/client/register", map[string]any{"machine_id": "R1", "pin": pin,
		"hostname": "h", "mac_address": "00:11:22:33:44:55"}), 403, "INVALID_PIN")
	admUnchanged(t, ts, func() {
		admRefused(t, op.form("DELETE", "/pins/"+created, nil, true), 404, "지워졌을 수 있습니다")
	})
}

func TestLayoutEditor(t *testing.T) {
	ts := newTestServer(t)
	a := ts.admin()
	op, view := ts.account(a, "op", "operator"), ts.account(a, "view", "viewer")
	pin := ts.pin(a, "multi")
	pc1, pc2 := ts.register(pin, "m1"), ts.register(pin, "m2")
	seatOf := func(pc *agent) string {
		t.Helper()
		p := a.do("GET", "/api/admin/pc/"+itoa(pc.PCID), nil).must(t, 200)
		return fmt.Sprint(p.get("pc.room_name"), " ", p.get("pc.seat_row"), "-", p.get("pc.seat_col"))
	}
	place := func(pc *agent, room, row, col string) response {
		t.Helper()
		return op.form("POST", "/layout/seat", url.Values{"pc": {itoa(pc.PCID)}, "room": {room}, "row": {row}, "col": {col}}, true)
	}

	t.Run("operators only", func(t *testing.T) {
		admUnchanged(t, ts, func() {
			admForbidden(t, map[string]*admin{"viewer": view}, [][2]string{
				{"GET", "/layout"}, {"POST", "/layout/rooms"}, {"POST", "/layout/room"}, {"DELETE", "/layout/room?room=x"},
				{"POST", "/layout/seat"}, {"POST", "/layout/pc/" + itoa(pc1.PCID) + "/unplace"}, {"POST", "/layout/pc/" + itoa(pc1.PCID) + "/verify"}})
		})
	})
	for _, hx := range []bool{false, true} {
		doc := admPage(t, op.page("/layout", hx), hx, "layout-panel")
		byTestID(t, doc, "layout-no-room")
		byTestID(t, doc, "unverified-empty")
	}

	const room = "3/F Lab"
	doc := admPage(t, op.form("POST", "/layout/rooms", url.Values{"name": {room}, "rows": {"2"}, "cols": {"3"}}, true), true, "layout-panel")
	if got := textOf(byTestID(t, doc, "room-editor-title")); got != room {
		t.Fatalf("editing %q after creating %q", got, room)
	}
	if n := len(byTestIDAll(doc, "layout-empty-seat")); n != 6 {
		t.Errorf("%d empty seats in a 2×3 room", n)
	}

	refused := []struct {
		name, method, path string
		vals               url.Values
		status             int
		mentions           string
	}{
		{"no rows", "POST", "/layout/rooms", url.Values{"name": {"R"}, "cols": {"3"}}, 400, "행 수을(를) 넣으세요"},
		{"zero rows", "POST", "/layout/rooms", url.Values{"name": {"R"}, "rows": {"0"}, "cols": {"3"}}, 400, "행의 수는 1부터 50까지"},
		{"too many cols", "POST", "/layout/rooms", url.Values{"name": {"R"}, "rows": {"1"}, "cols": {"51"}}, 400, "열의 수는 1부터 50까지"},
		{"rows not a number", "POST", "/layout/rooms", url.Values{"name": {"R"}, "rows": {"two"}, "cols": {"3"}}, 400, "행 수은(는) 정수여야"},
		{"blank name", "POST", "/layout/rooms", url.Values{"name": {"  "}, "rows": {"1"}, "cols": {"1"}}, 400, "강의실 이름은 1~100자"},
		{"taken name", "POST", "/layout/rooms", url.Values{"name": {room}, "rows": {"1"}, "cols": {"1"}}, 409, "이미 있습니다"},
		{"seat outside", "POST", "/layout/seat", url.Values{"pc": {itoa(pc1.PCID)}, "room": {room}, "row": {"3"}, "col": {"1"}}, 400, "강의실 안의 자리가 아닙니다"},
		{"unknown room", "POST", "/layout/seat", url.Values{"pc": {itoa(pc1.PCID)}, "room": {"nope"}, "row": {"1"}, "col": {"1"}}, 404, "지워졌을 수 있습니다"},
		{"no room", "POST", "/layout/seat", url.Values{"pc": {itoa(pc1.PCID)}, "row": {"1"}, "col": {"1"}}, 400, "강의실을 고르세요"},
		{"unknown PC", "POST", "/layout/seat", url.Values{"pc": {"999"}, "room": {room}, "row": {"1"}, "col": {"1"}}, 404, "지워졌을 수 있습니다"},
		{"picker outside", "GET", "/layout?room=" + url.QueryEscape(room) + "&row=3&col=1", nil, 400, "3행 1열은 이 강의실에 없는 자리"},
		{"editor on no room", "GET", "/layout?room=nope", nil, 404, "nope"},
		{"rename to nothing", "POST", "/layout/room", url.Values{"room": {room}, "name": {""}, "rows": {"2"}, "cols": {"3"}}, 400, "강의실 이름은 1~100자"},
		{"verify nothing", "POST", "/layout/pc/999/verify", nil, 404, "지워졌을 수 있습니다"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			admUnchanged(t, ts, func() { admRefused(t, op.form(tt.method, tt.path, tt.vals, true), tt.status, tt.mentions) })
		})
	}

	// Click an empty seat: the picker offers both PCs, neither placed yet.
	doc = admPage(t, op.page("/layout?room="+url.QueryEscape(room)+"&row=1&col=2", true), true, "layout-panel")
	if p := byTestID(t, doc, "seat-picker"); attr(p, "data-row") != "1" || attr(p, "data-col") != "2" {
		t.Error("the picker is not on seat 1-2")
	}
	var offered []string
	for _, o := range findAll(byTestID(t, doc, "seat-pc-unplaced"), func(n *html.Node) bool { return n.Data == "option" }) {
		offered = append(offered, attr(o, "value"))
	}
	if strings.Join(offered, " ") != itoa(pc1.PCID)+" "+itoa(pc2.PCID) || len(byTestIDAll(doc, "seat-pc-placed")) != 0 {
		t.Errorf("the picker offers %v, and placed PCs: %d", offered, len(byTestIDAll(doc, "seat-pc-placed")))
	}

	doc = admPage(t, place(pc1, room, "1", "2"), true, "layout-panel")
	seats := byTestIDAll(doc, "layout-seat")
	if len(seats) != 1 || attr(seats[0], "data-pc-id") != itoa(pc1.PCID) || attr(seats[0], "data-row") != "1" || attr(seats[0], "data-col") != "2" {
		t.Fatalf("after placing: %d seats", len(seats))
	}
	if got := seatOf(pc1); got != room+" 1-2" {
		t.Fatalf("PC 1 is at %s", got)
	}
	t.Run("seat taken", func(t *testing.T) {
		admUnchanged(t, ts, func() { admRefused(t, place(pc2, room, "1", "2"), 409, "이미 PC가 있습니다") })
	})
	admPage(t, place(pc2, room, "2", "3"), true, "layout-panel")
	admPage(t, place(pc2, room, "1", "1"), true, "layout-panel") // a move
	if got := seatOf(pc2); got != room+" 1-1" {
		t.Fatalf("PC 2 is at %s after the move", got)
	}
	t.Run("shrink under a PC", func(t *testing.T) {
		admUnchanged(t, ts, func() {
			admRefused(t, op.form("POST", "/layout/room", url.Values{"room": {room}, "name": {room}, "rows": {"1"}, "cols": {"1"}}, true), 409, "강의실 밖에 남게 됩니다")
		})
	})
	t.Run("delete with PCs", func(t *testing.T) {
		admUnchanged(t, ts, func() {
			admRefused(t, op.form("DELETE", "/layout/room?room="+url.QueryEscape(room), nil, true), 409, "강의실에 아직 PC가 있습니다")
		})
	})

	// Rename to a name no path could carry, and go on working with it.
	doc = admPage(t, op.form("POST", "/layout/room", url.Values{"room": {room}, "name": {".."}, "rows": {"3"}, "cols": {"3"}}, true), true, "layout-panel")
	if got := textOf(byTestID(t, doc, "room-editor-title")); got != ".." || len(byTestIDAll(doc, "layout-empty-seat")) != 7 {
		t.Fatalf("after renaming: editing %q with %d empty seats", got, len(byTestIDAll(doc, "layout-empty-seat")))
	}
	if got := seatOf(pc1); got != ".. 1-2" {
		t.Fatalf("PC 1 is at %s after the rename", got)
	}
	doc = admPage(t, op.form("POST", "/layout/pc/"+itoa(pc1.PCID)+"/unplace?room=..", nil, true), true, "layout-panel")
	if got := seatOf(pc1); got != "<nil> <nil>-<nil>" || len(byTestIDAll(doc, "layout-seat")) != 1 {
		t.Fatalf("PC 1 is at %s after unplacing", got)
	}
	admPage(t, op.form("POST", "/layout/pc/"+itoa(pc2.PCID)+"/unplace?room=..", nil, true), true, "layout-panel")
	doc = admPage(t, op.form("DELETE", "/layout/room?room=..", nil, true), true, "layout-panel")
	byTestID(t, doc, "layout-no-room")
	if rooms := items(t, a.do("GET", "/api/admin/rooms", nil).must(t, 200), "rooms"); len(rooms) != 0 {
		t.Fatalf("rooms left: %v", rooms)
	}

	// Verify a PC an admin marked unverified.
	a.do("PUT", "/api/admin/pc/"+itoa(pc2.PCID)+"/verified", map[string]any{"verified": false}).must(t, 200)
	doc = admPage(t, op.page("/layout", false), false, "layout-panel")
	if rows := byTestIDAll(doc, "unverified-pc"); len(rows) != 1 || attr(rows[0], "data-pc-id") != itoa(pc2.PCID) {
		t.Fatalf("unverified rows: %d", len(rows))
	}
	doc = admPage(t, op.form("POST", "/layout/pc/"+itoa(pc2.PCID)+"/verify?room=", nil, true), true, "layout-panel")
	byTestID(t, doc, "unverified-empty")
	if v := a.do("GET", "/api/admin/pc/"+itoa(pc2.PCID), nil).must(t, 200).get("pc.is_verified"); v != true {
		t.Errorf("is_verified %v after verifying", v)
	}

	t.Run("no CSRF token", func(t *testing.T) {
		admUnchanged(t, ts, func() {
			for _, r := range [][2]string{{"POST", "/layout/rooms"}, {"POST", "/layout/seat"}, {"DELETE", "/layout/room?room=x"},
				{"POST", "/layout/pc/" + itoa(pc1.PCID) + "/verify"}} {
				vals := url.Values{"name": {"R"}, "rows": {"1"}, "cols": {"1"}, "pc": {itoa(pc1.PCID)}, "room": {"R"}, "row": {"1"}, "col": {"1"}}
				if res := op.sendForm(r[0], r[1], vals, "HX-Request", "true"); res.Status != http.StatusForbidden {
					t.Errorf("%s %s: %d, want 403", r[0], r[1], res.Status)
				}
			}
		})
	})

	t.Run("hostile room name", func(t *testing.T) {
		admPage(t, op.form("POST", "/layout/rooms", url.Values{"name": {hostile}, "rows": {"1"}, "cols": {"1"}}, true), true, "layout-panel")
		res := op.page("/layout?room="+url.QueryEscape(hostile), false)
		doc := admPage(t, res, false, "layout-panel")
		if strings.Contains(res.Raw, hostile) {
			t.Error("the room name became markup")
		}
		if got := textOf(byTestID(t, doc, "room-editor-title")); got != hostile {
			t.Errorf("title %q", got)
		}
	})
}
