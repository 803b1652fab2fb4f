package app

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/wcms-lab/wcms/handlers"
	"github.com/wcms-lab/wcms/internal/testdb"
	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/tokens"
)

// An instance whose PIN key differs from a running one's on the same database does not start:
// PINs made at one would be refused at the other.
func TestInstancesShareThePINKey(t *testing.T) {
	ctx := context.Background()
	dsn, dir := testdb.DSN(t), t.TempDir()
	os.MkdirAll(filepath.Dir(dsn), 0o750) // the SQLite file's folder; a URL on PostgreSQL
	store, err := models.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	theirs := tokens.NewPINHasher([]byte("0123456789abcdef0123456789abcdef")).KeyCheck()
	row := models.Instance{ID: "other", Name: "server-a :5050", StartedAt: time.Now(), SeenAt: time.Now(), PINKeyCheck: theirs}
	if err := store.SaveInstance(ctx, row); err != nil {
		t.Fatal(err)
	}
	start := func(key string) error {
		a, err := New(ctx, Config{DB: dsn, DataDir: dir, AdminPassword: "first password here",
			HTTP: handlers.Config{PINKey: []byte(key), BcryptCost: bcrypt.MinCost}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err == nil {
			a.Close()
		}
		return err
	}
	err = start("another key, 32 bytes long......")
	if err == nil || !strings.Contains(err.Error(), "pin.key") || !strings.Contains(err.Error(), "server-a :5050") || !strings.Contains(err.Error(), "PIN 키") {
		t.Fatalf("a different key: %v", err)
	}
	if err := start("0123456789abcdef0123456789abcdef"); err != nil {
		t.Fatalf("the same key: %v", err)
	}
	// An instance stopped a while ago says nothing of the key in use.
	row.SeenAt = time.Now().Add(-2 * time.Minute)
	if err := store.SaveInstance(ctx, row); err != nil {
		t.Fatal(err)
	}
	if err := start("another key, 32 bytes long......"); err != nil {
		t.Fatalf("a different key from an instance stopped long ago: %v", err)
	}
}
