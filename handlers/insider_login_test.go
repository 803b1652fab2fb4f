package handlers_test

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wcms-lab/wcms/handlers"

	"github.com/wcms-lab/wcms/fleet"
)

// from makes a login come from addr behind a trusted proxy.
func from(addr string) []string { return []string{"X-Forwarded-For", addr} }

// A burst of wrong logins from one address, all in flight at once, reaches bcrypt no more often
// than the limit allows: the limit is read and a failure counted in one step per address.
func TestConcurrentLoginsCannotPassTheLimit(t *testing.T) {
	const limit, burst = 10, 100
	// A real cost, so the attempts arrive while others are being checked, as on a server.
	ts := newTestServer(t, func(c *handlers.Config, _ *fleet.Config) { c.LoginFailures, c.BcryptCost = limit, 8 })
	ts.account(ts.admin(), "victim", "viewer")

	var wg sync.WaitGroup
	answers := make([]*http.Response, burst)
	for i := range burst {
		wg.Go(func() { answers[i] = loginRaw(t, ts, "victim", "guess "+strconv.Itoa(i)) })
	}
	wg.Wait()
	checked, limited := 0, 0
	for _, res := range answers {
		switch {
		case res.StatusCode == http.StatusFound && res.Header.Get("Location") == "/login":
			checked++
		case res.StatusCode == http.StatusTooManyRequests:
			limited++
			if n, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || n < 1 {
				t.Errorf("429 with Retry-After %q", res.Header.Get("Retry-After"))
			}
		default:
			t.Errorf("answer %d to %q", res.StatusCode, res.Header.Get("Location"))
		}
	}
	t.Logf("%d concurrent wrong logins from one address: %d checked by bcrypt, %d refused with 429", burst, checked, limited)
	if checked != limit || limited != burst-limit {
		t.Fatalf("%d checked and %d refused, want %d and %d", checked, limited, limit, burst-limit)
	}
}

// Guesses at one account from many addresses slow the attacker to one guess per address and
// window, but never lock out the right password from an address that has not failed.
func TestLoginThrottlePerAccount(t *testing.T) {
	ts := newTestServer(t, func(c *handlers.Config, _ *fleet.Config) { c.TrustProxy, c.LoginFailures = true, 2 })
	ts.account(ts.admin(), "viewer1", "viewer")
	spray := func(i int) []string { return from("198.51.100." + strconv.Itoa(i)) }
	for i := range 20 {
		res := loginRaw(t, ts, "admin", "guess "+strconv.Itoa(i), spray(i)...)
		if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/login" {
			t.Fatalf("first guess from address %d: %d to %q", i, res.StatusCode, res.Header.Get("Location"))
		}
	}
	t.Run("a sprayed address is held after its one guess", func(t *testing.T) {
		for i := range 20 {
			res := loginRaw(t, ts, "admin", "second guess", spray(i)...)
			if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
				t.Fatalf("second guess from address %d: %d, Retry-After %q", i, res.StatusCode, res.Header.Get("Retry-After"))
			}
		}
		// Even the right password: the account is under attack and this address has failed.
		if res := loginRaw(t, ts, "admin", testPassword, spray(0)...); res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("right password from a sprayed address: %d", res.StatusCode)
		}
	})
	t.Run("the right password from a clean address logs in", func(t *testing.T) {
		res := loginRaw(t, ts, "admin", testPassword, from("203.0.113.7")...)
		if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/" || cookieNamed(res, handlers.SessionCookie) == nil {
			t.Fatalf("right password after 40 guesses from 20 addresses: %d to %q", res.StatusCode, res.Header.Get("Location"))
		}
	})
	t.Run("another account from a sprayed address is not held", func(t *testing.T) {
		res := loginRaw(t, ts, "viewer1", "viewer1 password 123", spray(1)...)
		if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/" {
			t.Fatalf("another account: %d to %q", res.StatusCode, res.Header.Get("Location"))
		}
	})
}

// An unknown username costs as much as a wrong password: timing does not tell which accounts
// exist. A property check on medians, not a benchmark.
func TestLoginTimingHidesUsernames(t *testing.T) {
	ts := newTestServer(t, func(c *handlers.Config, _ *fleet.Config) { c.BcryptCost, c.LoginFailures = 8, 1000 })
	ts.account(ts.admin(), "known", "viewer")
	median := func(user string) time.Duration {
		var ds []time.Duration
		for i := range 5 {
			start := time.Now()
			if res := loginRaw(t, ts, user, "wrong password "+strconv.Itoa(i)); res.Header.Get("Location") != "/login" {
				t.Fatalf("login %s: %d to %q", user, res.StatusCode, res.Header.Get("Location"))
			}
			ds = append(ds, time.Since(start))
		}
		slices.Sort(ds)
		return ds[len(ds)/2]
	}
	median("known") // warm up the connection and the account's row
	known, unknown := median("known"), median("nobody-here")
	ratio := float64(unknown) / float64(known)
	t.Logf("median login: known user %v, unknown user %v (ratio %.2f)", known, unknown, ratio)
	if ratio < 0.5 || ratio > 2 {
		t.Fatalf("unknown usernames answer in %v, known ones in %v: the time tells them apart", unknown, known)
	}
}

// A failed login logs the address, never what was typed as the username (often a password typed
// into the wrong box), and does not store it either; a successful one may name the account.
func TestLoginFailureLogsNoUsername(t *testing.T) {
	ts := newTestServer(t, func(c *handlers.Config, _ *fleet.Config) { c.LoginFailures = 2 })
	typed := []string{"Typed-Secret-One", "Typed-Secret-Two", "Typed-Secret-Three"}
	for i, user := range typed {
		want := http.StatusFound
		if i == len(typed)-1 {
			want = http.StatusTooManyRequests
		}
		if res := loginRaw(t, ts, user, "whatever"); res.StatusCode != want {
			t.Fatalf("login %d: %d, want %d", i, res.StatusCode, want)
		}
	}
	logs := ts.logs.String()
	for _, user := range typed {
		if strings.Contains(logs, user) {
			t.Errorf("the log shows the typed username %q:\n%s", user, logs)
		}
	}
	if !strings.Contains(logs, "login failed") || !strings.Contains(logs, "addr=127.0.0.1") {
		t.Errorf("failed logins are not logged with their address:\n%s", logs)
	}
	db, _ := openDB(t, ts)
	stored := fmt.Sprint(dumpDB(t, db))
	if !strings.Contains(stored, "login-name|") {
		t.Fatalf("no account's failures stored:\n%s", stored)
	}
	for _, user := range typed {
		if strings.Contains(stored, user) {
			t.Errorf("the database holds the typed username %q", user)
		}
	}
}
