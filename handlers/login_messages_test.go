package handlers_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/wcms-lab/wcms/fleet"
	"github.com/wcms-lab/wcms/handlers"
)

// TestLoginMessages: a browser that signs in wrongly comes back to the login page with one
// message for a wrong username and a wrong password alike, and a locked-out one is told, in its
// language, how many minutes to wait.
func TestLoginMessages(t *testing.T) {
	ts := newTestServer(t, func(c *handlers.Config, _ *fleet.Config) { c.LoginFailures = 3 })
	post := func(lang, user, pw string) (int, string) {
		t.Helper()
		jar, _ := cookiejar.New(nil)
		req, _ := http.NewRequest("POST", ts.URL+"/login", strings.NewReader(url.Values{"username": {user}, "password": {pw}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept-Language", lang)
		res, err := (&http.Client{Jar: jar}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}
	loginError := func(body string) string {
		t.Helper()
		errs := byTestIDAll(parseHTML(t, body), "login-error")
		if len(errs) != 1 {
			return ""
		}
		return strings.TrimSpace(textOf(errs[0]))
	}

	if res := ts.do(nil, "GET", "/login", nil); loginError(res.Raw) != "" {
		t.Fatalf("a first visit shows an error: %q", loginError(res.Raw))
	}
	for _, c := range []struct{ lang, user, pw, want string }{
		{"ko", "admin", "wrong password", "아이디나 비밀번호가 맞지 않습니다."},
		{"ko", "nobody", testPassword, "아이디나 비밀번호가 맞지 않습니다."},
		{"en", "admin", "wrong password", "Wrong username or password."},
	} {
		status, body := post(c.lang, c.user, c.pw)
		if status != 200 || loginError(body) != c.want {
			t.Errorf("%s %s: %d, login error %q, want %q", c.lang, c.user, status, loginError(body), c.want)
		}
	}
	// The message is shown once: reloading the page does not repeat it.
	if res := ts.do(nil, "GET", "/login", nil); loginError(res.Raw) != "" {
		t.Fatalf("a later visit shows an error: %q", loginError(res.Raw))
	}

	for _, c := range []struct{ lang, want string }{
		{"ko", "분 뒤에 다시 시도하세요"},
		{"en", "minute(s)"},
	} {
		status, body := post(c.lang, "admin", testPassword)
		if status != 429 || !strings.Contains(body, c.want) {
			t.Errorf("locked out (%s): %d, body lacks %q:\n%s", c.lang, status, c.want, body)
		}
	}
}
