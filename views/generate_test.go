package views_test

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestGeneratedUpToDate fails when a committed *_templ.go no longer matches
// what `make generate` (`go tool templ generate` at the module root) makes of
// its .templ source, or when a generated file has lost its source.
//
// It generates from copies of the sources, laid out as views/ under a
// temporary folder: templ writes each source's path relative to the folder it
// generates in into the code (for runtime error messages), so the copy must
// sit at the same relative path as the real file. The working tree is never
// touched.
func TestGeneratedUpToDate(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found: cannot run templ generate")
	}

	var sources, generated []string
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil || d.IsDir():
			return err
		case strings.HasSuffix(path, "_templ.go"):
			generated = append(generated, path)
		case strings.HasSuffix(path, ".templ"):
			sources = append(sources, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(sources) == 0 {
		t.Fatal("no .templ files in views/")
	}

	tmp := t.TempDir()
	for _, src := range sources {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(tmp, "views", src)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// `go tool` finds templ through go.mod, so run it from the module root.
	cmd := exec.Command(goBin, "tool", "templ", "generate", "-path", tmp)
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go tool templ generate: %v\n%s", err, out)
	}

	for _, src := range sources {
		gen := strings.TrimSuffix(src, ".templ") + "_templ.go"
		want, err := os.ReadFile(filepath.Join(tmp, "views", gen))
		if err != nil {
			t.Fatalf("templ generate made no %s: %v", gen, err)
		}
		got, err := os.ReadFile(gen)
		if err != nil {
			t.Errorf("views/%s is missing: run make generate", gen)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("views/%s is stale (it differs from what %s generates): run make generate", gen, src)
		}
	}
	for _, gen := range generated {
		if _, err := os.Stat(strings.TrimSuffix(gen, "_templ.go") + ".templ"); err != nil {
			t.Errorf("views/%s has no .templ source: delete it, then run make generate", gen)
		}
	}
}
