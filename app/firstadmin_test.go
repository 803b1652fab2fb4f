package app

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wcms-lab/wcms/models"
	"golang.org/x/crypto/bcrypt"
)

func TestFirstAdmin(t *testing.T) {
	ctx := context.Background()
	open := func(t *testing.T) (*models.Store, string) {
		dir := t.TempDir()
		store, err := models.Open(ctx, filepath.Join(dir, "wcms.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		if _, err := store.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		return store, dir
	}

	t.Run("generated password", func(t *testing.T) {
		store, dir := open(t)
		var logs bytes.Buffer
		log := slog.New(slog.NewTextHandler(&logs, nil))
		if err := EnsureFirstAdmin(ctx, store, dir, "", bcrypt.MinCost, log); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, "initial-admin-password")
		fi, err := os.Stat(file)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("password file mode %v, want 0600", fi.Mode().Perm())
		}
		if fi, err := os.Stat(filepath.Join(dir, "wcms.db")); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("database file mode %v (%v), want 0600: it holds password hashes", fi.Mode().Perm(), err)
		}
		b, _ := os.ReadFile(file)
		pw := strings.TrimSpace(string(b))
		if len(pw) < 12 {
			t.Fatalf("generated password %q is too short", pw)
		}
		adm, err := store.AdminByUsername(ctx, "admin")
		if err != nil {
			t.Fatal(err)
		}
		if !adm.MustChangePassword || adm.Role != models.RoleAdmin {
			t.Fatalf("first admin: must_change_password %v role %s", adm.MustChangePassword, adm.Role)
		}
		if bcrypt.CompareHashAndPassword([]byte(adm.PasswordHash), []byte(pw)) != nil {
			t.Fatal("the file's password is not the account's")
		}
		// A second start changes nothing.
		if err := EnsureFirstAdmin(ctx, store, dir, "", bcrypt.MinCost, log); err != nil {
			t.Fatal(err)
		}
		if n, _ := store.CountAdmins(ctx); n != 1 {
			t.Fatalf("%d admins after a second start", n)
		}
		if b2, _ := os.ReadFile(file); !bytes.Equal(b, b2) {
			t.Fatal("a second start rewrote the password file")
		}
	})

	t.Run("password from the environment", func(t *testing.T) {
		store, dir := open(t)
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		if err := EnsureFirstAdmin(ctx, store, dir, "short", bcrypt.MinCost, log); err == nil {
			t.Fatal("a short WCMS_ADMIN_PASSWORD was accepted")
		}
		if err := EnsureFirstAdmin(ctx, store, dir, "a long enough password", bcrypt.MinCost, log); err != nil {
			t.Fatal(err)
		}
		adm, err := store.AdminByUsername(ctx, "admin")
		if err != nil || adm.MustChangePassword {
			t.Fatalf("admin from the environment: %+v %v", adm, err)
		}
		if _, err := os.Stat(filepath.Join(dir, "initial-admin-password")); !os.IsNotExist(err) {
			t.Fatalf("a password file was written for a given password: %v", err)
		}
	})
}
