package models

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// buildFolder is where the store keeps build files: agent-builds/ next to the database.
func buildFolder(t *testing.T, s *Store) string {
	t.Helper()
	var file string
	if err := s.r.QueryRowContext(context.Background(), "SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&file); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(filepath.Dir(file), "agent-builds")
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

func addBuild(t *testing.T, s *Store, content, version, goos, arch string) *AgentBuild {
	t.Helper()
	sb, err := s.StageAgentBuild(strings.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Discard()
	b := &AgentBuild{Version: version, OS: goos, Arch: arch, CreatedBy: "test"}
	if err := s.AddAgentBuild(context.Background(), b, sb, time.Now()); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAgentBuildFiles(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	dir := buildFolder(t, s)
	content := "MZ pretend agent build"
	sum := sha256.Sum256([]byte(content))
	want := hex.EncodeToString(sum[:])

	sb, err := s.StageAgentBuild(strings.NewReader(content))
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
	b := &AgentBuild{Version: "1.2.3", OS: "windows", Arch: "amd64", Changelog: "first", CreatedBy: "admin"}
	if err := s.AddAgentBuild(ctx, b, sb, time.Now()); err != nil {
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
	f, err := s.OpenAgentBuild(b)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(f)
	f.Close()
	if string(got) != content {
		t.Fatalf("read back %q", got)
	}

	t.Run("the same bytes again", func(t *testing.T) {
		sb, err := s.StageAgentBuild(strings.NewReader(content))
		if err != nil {
			t.Fatal(err)
		}
		err = s.AddAgentBuild(ctx, &AgentBuild{Version: "9.9.9", OS: "linux", Arch: "amd64", CreatedBy: "x"}, sb, time.Now())
		sb.Discard()
		if !errors.Is(err, ErrDuplicate) {
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
		if _, err := s.StageAgentBuild(r); !errors.Is(err, errBroken) {
			t.Fatalf("stage from a failing reader: %v", err)
		}
		if names := folderNames(t, dir); len(names) != 1 {
			t.Fatalf("folder holds %v", names)
		}
	})
	t.Run("discarded without adding", func(t *testing.T) {
		sb, err := s.StageAgentBuild(strings.NewReader("not kept"))
		if err != nil {
			t.Fatal(err)
		}
		sb.Discard()
		if names := folderNames(t, dir); len(names) != 1 {
			t.Fatalf("folder holds %v", names)
		}
	})
	t.Run("delete", func(t *testing.T) {
		gone, err := s.DeleteAgentBuild(ctx, b.ID)
		if err != nil || gone.SHA256 != want {
			t.Fatalf("delete: %+v %v", gone, err)
		}
		if names := folderNames(t, dir); len(names) != 0 {
			t.Fatalf("after delete the folder holds %v", names)
		}
		if _, err := s.AgentBuild(ctx, b.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("row after delete: %v", err)
		}
		if _, err := s.DeleteAgentBuild(ctx, b.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("second delete: %v", err)
		}
		if _, err := s.OpenAgentBuild(gone); !errors.Is(err, ErrNotFound) {
			t.Fatalf("open after delete: %v", err)
		}
	})
}

var errBroken = errors.New("connection broke")

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errBroken }

func TestNewestAgentBuild(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	if _, err := s.NewestAgentBuild(ctx, "linux", "amd64"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("no builds: %v", err)
	}
	for _, v := range []string{"1.9.0", "1.10.0-rc.1", "v1.2.0"} {
		addBuild(t, s, "linux "+v, v, "linux", "amd64")
	}
	ten := addBuild(t, s, "linux 1.10.0", "1.10.0", "linux", "amd64")
	addBuild(t, s, "linux 1.9.9", "1.9.9", "linux", "amd64") // registered later, still older
	win := addBuild(t, s, "windows 2.0.0", "2.0.0", "windows", "amd64")
	arm := addBuild(t, s, "linux arm64 0.1.0", "0.1.0", "linux", "arm64")

	for _, c := range []struct {
		os, arch string
		want     *AgentBuild
	}{
		{"linux", "amd64", ten},
		{"windows", "amd64", win},
		{"linux", "arm64", arm},
		{"windows", "386", nil},
	} {
		t.Run(c.os+"/"+c.arch, func(t *testing.T) {
			got, err := s.NewestAgentBuild(ctx, c.os, c.arch)
			if c.want == nil {
				if !errors.Is(err, ErrNotFound) {
					t.Fatalf("got %+v %v, want ErrNotFound", got, err)
				}
				return
			}
			if err != nil || got.ID != c.want.ID {
				t.Fatalf("got %+v %v, want build %d (%s)", got, err, c.want.ID, c.want.Version)
			}
		})
	}
	t.Run("equal versions: the one registered last", func(t *testing.T) {
		rebuilt := addBuild(t, s, "linux 1.10.0 rebuilt", "1.10.0", "linux", "amd64")
		if got, err := s.NewestAgentBuild(ctx, "linux", "amd64"); err != nil || got.ID != rebuilt.ID {
			t.Fatalf("got %+v %v, want the rebuild %d", got, err, rebuilt.ID)
		}
	})
	t.Run("list newest registered first", func(t *testing.T) {
		bs, err := s.ListAgentBuilds(ctx)
		if err != nil || len(bs) != 8 {
			t.Fatalf("%d builds, %v", len(bs), err)
		}
		for i := 1; i < len(bs); i++ {
			if bs[i].ID >= bs[i-1].ID {
				t.Fatalf("not newest first: %d after %d", bs[i].ID, bs[i-1].ID)
			}
		}
	})
}

func TestIsVersion(t *testing.T) {
	for _, c := range []struct {
		v  string
		ok bool
	}{
		{"1.2.3", true}, {"v1.2.3", true}, {"1.10.0-rc.1", true}, {"0.9.0-dev", true}, {"1.2", true},
		{"", false}, {"dev", false}, {"1.2.3 beta", false}, {`"1.2.3"`, false}, {"vv1.2.3", false},
	} {
		t.Run(c.v, func(t *testing.T) {
			if IsVersion(c.v) != c.ok {
				t.Fatalf("IsVersion(%q) = %v", c.v, !c.ok)
			}
		})
	}
}
