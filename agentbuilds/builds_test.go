package agentbuilds

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/wcms-lab/wcms/models"
)

// openTest opens a real SQLite store, migrated, and the builds kept beside it.
func openTest(t *testing.T) (*models.Store, *Builds, string) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	s, err := models.Open(ctx, filepath.Join(dir, "wcms.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	folder := filepath.Join(dir, "agent-builds")
	return s, New(s, folder), folder
}

// folderNames lists a folder's entries (none when it does not exist).
func folderNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestAgentBuildFiles(t *testing.T) {
	ctx := context.Background()
	s, bs, dir := openTest(t)
	content := "MZ pretend agent build"
	sum := sha256.Sum256([]byte(content))
	want := hex.EncodeToString(sum[:])

	sb, err := bs.Stage(strings.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	if sb.SHA256 != want || sb.Size != int64(len(content)) {
		t.Fatalf("staged %s (%d bytes), want %s (%d)", sb.SHA256, sb.Size, want, len(content))
	}
	head := make([]byte, 2)
	if _, err := sb.ReadAt(head, 0); err != nil || string(head) != "MZ" {
		t.Fatalf("ReadAt: %q %v", head, err)
	}
	if names := folderNames(t, dir); len(names) != 1 || !strings.HasPrefix(names[0], ".") {
		t.Fatalf("while staged the folder holds %v, want one dot-named temporary", names)
	}
	b := &models.AgentBuild{Version: "1.2.3", OS: "windows", Arch: "amd64", Changelog: "first", CreatedBy: "admin"}
	if err := bs.Store(ctx, b, sb); err != nil {
		t.Fatal(err)
	}
	sb.Discard() // a no-op now: the file moved into place
	if b.ID == 0 || b.SHA256 != want || b.Size != int64(len(content)) || b.FileName() != "wcms-agent.exe" {
		t.Fatalf("added %+v", b)
	}
	if names := folderNames(t, dir); len(names) != 1 || names[0] != want {
		t.Fatalf("folder holds %v, want just %s", names, want)
	}
	if runtime.GOOS != "windows" { // Windows has no such modes
		if st, err := os.Stat(filepath.Join(dir, want)); err != nil || st.Mode().Perm() != 0o644 {
			t.Errorf("build file: %v %v, want mode 0644", st.Mode(), err)
		}
		if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o755 {
			t.Errorf("build folder: %v %v, want mode 0755", st.Mode(), err)
		}
	}
	f, err := bs.Open(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(f)
	f.Close()
	if string(got) != content {
		t.Fatalf("read back %q", got)
	}

	t.Run("the same bytes again", func(t *testing.T) {
		sb, err := bs.Stage(strings.NewReader(content))
		if err != nil {
			t.Fatal(err)
		}
		err = bs.Store(ctx, &models.AgentBuild{Version: "9.9.9", OS: "linux", Arch: "amd64", CreatedBy: "x"}, sb)
		sb.Discard()
		if !errors.Is(err, models.ErrDuplicate) {
			t.Fatalf("duplicate: %v", err)
		}
		if names := folderNames(t, dir); len(names) != 1 || names[0] != want {
			t.Fatalf("after the duplicate the folder holds %v", names)
		}
		if got, err := s.AgentBuildBySHA256(ctx, want); err != nil || got.ID != b.ID || got.Version != "1.2.3" {
			t.Fatalf("the first build changed: %+v %v", got, err)
		}
	})
	t.Run("a broken upload leaves nothing", func(t *testing.T) {
		r := io.MultiReader(strings.NewReader("MZ half a build"), failingReader{})
		if _, err := bs.Stage(r); !errors.Is(err, errBroken) {
			t.Fatalf("stage from a failing reader: %v", err)
		}
		if names := folderNames(t, dir); len(names) != 1 {
			t.Fatalf("folder holds %v", names)
		}
	})
	t.Run("discarded without adding", func(t *testing.T) {
		sb, err := bs.Stage(strings.NewReader("not kept"))
		if err != nil {
			t.Fatal(err)
		}
		sb.Discard()
		if names := folderNames(t, dir); len(names) != 1 {
			t.Fatalf("folder holds %v", names)
		}
	})
	t.Run("delete", func(t *testing.T) {
		gone, err := bs.Delete(ctx, b.ID)
		if err != nil || gone.SHA256 != want {
			t.Fatalf("delete: %+v %v", gone, err)
		}
		if names := folderNames(t, dir); len(names) != 0 {
			t.Fatalf("after delete the folder holds %v", names)
		}
		if _, err := s.AgentBuild(ctx, b.ID); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("row after delete: %v", err)
		}
		if _, err := bs.Delete(ctx, b.ID); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("second delete: %v", err)
		}
		if _, err := bs.Open(ctx, gone); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("open after delete: %v", err)
		}
	})
}

var errBroken = errors.New("connection broke")

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errBroken }

// The ldflags samples are captured from real builds: each is the -ldflags setting debug/buildinfo
// read from a binary, with the main.version that binary printed when run.
func TestLDFlagsVersion(t *testing.T) {
	var samples []struct {
		LDFlags string `json:"ldflags"`
		Version string `json:"version"`
	}
	data, err := os.ReadFile(filepath.Join("testdata", "ldflags.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &samples); err != nil {
		t.Fatal(err)
	}
	if len(samples) < 10 {
		t.Fatalf("only %d samples", len(samples))
	}
	for _, s := range samples {
		t.Run(s.LDFlags, func(t *testing.T) {
			if got := ldflagsVersion(s.LDFlags); got != s.Version {
				t.Fatalf("ldflagsVersion(%q) = %q, the binary said %q", s.LDFlags, got, s.Version)
			}
		})
	}
}
