package handlers_test

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wcms-lab/wcms/handlers"

	"golang.org/x/crypto/bcrypt"

	"github.com/wcms-lab/wcms/models"
)

// A session from a generated or reset password can do nothing through the JSON API but change
// that password (and log out); afterwards the same calls work.
func TestForcedPasswordChangeCoversTheAPI(t *testing.T) {
	ts := newTestServer(t)
	a := ts.admin()
	first := "fresh first password"
	a.do("POST", "/api/admin/accounts", map[string]any{"username": "fresh", "password": first, "role": "admin"}).must(t, 200)
	u := ts.login("fresh", first)
	create := map[string]any{"username": "sneaky", "password": "sneaky password 1", "role": "admin"}

	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/api/admin/accounts", create},
		{"GET", "/api/admin/pcs", nil},
		{"GET", "/api/admin/accounts", nil},
	} {
		res := u.do(c.method, c.path, c.body)
		checkEnvelope(t, res, 403, "PASSWORD_CHANGE_REQUIRED", "POST /api/admin/password")
	}
	if _, err := ts.store.AdminByUsername(t.Context(), "sneaky"); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("an account was created before the forced change: %v", err)
	}

	u.do("POST", "/api/admin/password", map[string]any{"current_password": first, "new_password": "fresh own password"}).must(t, 200)
	u.do("POST", "/api/admin/accounts", create).must(t, 200)
	u.do("GET", "/api/admin/pcs", nil).must(t, 200)
	u.do("GET", "/api/admin/accounts", nil).must(t, 200)

	// Logging out needs no change first.
	v := ts.login("sneaky", "sneaky password 1")
	if res := v.do("POST", "/logout", nil); res.Status != 302 || res.Header.Get("Location") != "/login" {
		t.Fatalf("logout before the forced change: %d %q", res.Status, res.Header.Get("Location"))
	}
}

// The generated first password's file goes once the password it holds is no longer the
// account's: changed by the admin through the API or the page, or reset by another admin.
func TestFirstPasswordFileRemovedOnChange(t *testing.T) {
	const next = "admin chosen password"
	for _, c := range []struct {
		name   string
		change func(t *testing.T, ts *testServer, generated string)
	}{
		{"own change through the API", func(t *testing.T, ts *testServer, generated string) {
			ts.login("admin", generated).do("POST", "/api/admin/password",
				map[string]any{"current_password": generated, "new_password": next}).must(t, 200)
		}},
		{"own change through the page", func(t *testing.T, ts *testServer, generated string) {
			res := ts.login("admin", generated).form("POST", handlers.PasswordPath, url.Values{"current_password": {generated},
				"new_password": {next}, "repeat_password": {next}}, false)
			if res.Status != 303 || res.Header.Get("Location") != "/" {
				t.Fatalf("password page: %d %q", res.Status, res.Header.Get("Location"))
			}
		}},
		{"reset by another admin", func(t *testing.T, ts *testServer, _ string) {
			hash, _ := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
			if err := ts.store.CreateAdmin(t.Context(), &models.Admin{Username: "second", PasswordHash: string(hash), Role: models.RoleAdmin}); err != nil {
				t.Fatal(err)
			}
			ts.login("second", testPassword).do("PUT", "/api/admin/account/admin/password", map[string]any{"new_password": next}).must(t, 200)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ts := newTestServerWith(t, "")
			file := filepath.Join(ts.dataDir, "initial-admin-password")
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("EnsureFirstAdmin wrote no password file: %v", err)
			}
			c.change(t, ts, strings.TrimSpace(string(b)))
			if _, err := os.Stat(file); !os.IsNotExist(err) {
				t.Fatalf("%s still on disk after the password changed (%v)", file, err)
			}
		})
	}
}
