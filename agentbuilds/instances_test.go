package agentbuilds

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/wcms-lab/wcms/internal/testdb"
	"github.com/wcms-lab/wcms/models"
)

// stored adds a build of content at bs.
func stored(t *testing.T, bs *Builds, content []byte, version string) *models.AgentBuild {
	t.Helper()
	sb, err := bs.Stage(bytes.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Discard()
	b := &models.AgentBuild{Version: version, OS: "linux", Arch: "amd64", CreatedBy: "admin"}
	if err := bs.Store(context.Background(), b, sb); err != nil {
		t.Fatal(err)
	}
	return b
}

// A build uploaded at one instance is served by another on the same database: the other writes
// the file from the database once, however many downloads ask at the same time, and never a file
// whose content is not the build's. A build registered before the database kept content is
// shared by the instance that has its file.
func TestBuildsServedByEveryInstance(t *testing.T) {
	ctx := context.Background()
	dsn := testdb.DSN(t)
	os.MkdirAll(filepath.Dir(dsn), 0o750) // the SQLite file's folder; a URL on PostgreSQL
	s, err := models.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	a, b := New(s, t.TempDir()), New(s, t.TempDir())
	content := make([]byte, 2<<20+12345) // three pieces in the database
	rand.Read(content)
	build := stored(t, a, content, "1.0.0")

	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			f, err := b.Open(ctx, build)
			if err != nil {
				t.Error(err)
				return
			}
			defer f.Close()
			if got, _ := io.ReadAll(f); !bytes.Equal(got, content) {
				t.Errorf("B served %d bytes, not the build's %d", len(got), len(content))
			}
		})
	}
	wg.Wait()
	if names := folderNames(t, b.dir); len(names) != 1 || names[0] != build.SHA256 {
		t.Fatalf("B's folder holds %v, want the build's file alone", names)
	}

	// Content that is not the build's is never served.
	db, err := sql.Open(testdb.Driver(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	other := stored(t, a, []byte("another build"), "1.0.1")
	if _, err := db.Exec(testdb.Bind("UPDATE agent_build_chunks SET data = ? WHERE build_id = ?"), []byte("tampered"), other.ID); err != nil {
		t.Fatal(err)
	}
	if f, err := b.Open(ctx, other); err == nil {
		f.Close()
		t.Fatal("B served a build whose content in the database is not the build's")
	}
	if names := folderNames(t, b.dir); len(names) != 1 {
		t.Fatalf("B's folder holds %v after refusing a content", names)
	}

	// A build stored before the database kept content: A, which has the file, shares it.
	old := stored(t, a, []byte("an old build"), "0.9.0")
	if _, err := db.Exec(testdb.Bind("DELETE FROM agent_build_chunks WHERE build_id = ?"), old.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Open(ctx, old); err == nil {
		t.Fatal("B served a build with no content anywhere it can read")
	}
	if n, err := b.Share(ctx); err != nil || n != 0 {
		t.Fatalf("B, without the file, shared %d: %v", n, err)
	}
	if n, err := a.Share(ctx); err != nil || n != 1 {
		t.Fatalf("A shared %d builds, want 1: %v", n, err)
	}
	f, err := b.Open(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got, _ := io.ReadAll(f); string(got) != "an old build" {
		t.Fatalf("B served %q", got)
	}
}
