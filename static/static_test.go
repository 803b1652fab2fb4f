package static_test

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wcms-lab/wcms/static"
)

func TestFSHoldsTheAssetsTheViewsLink(t *testing.T) {
	for _, name := range []string{"app.css", "htmx.min.js", "sse.min.js", "fonts.css", "fonts/noto-sans-kr-0-wght-normal.woff2"} {
		t.Run(name, func(t *testing.T) {
			b, err := fs.ReadFile(static.FS, name)
			if err != nil {
				t.Fatalf("read %s: %v", name, err)
			}
			if len(strings.TrimSpace(string(b))) == 0 {
				t.Fatalf("%s is empty", name)
			}
		})
	}
}

// TestBuiltAssetsUpToDate rebuilds the assets from the npm packages pinned in package.json and
// compares them with the committed ones: a template using a new Tailwind class, or a version bump
// without `make generate`, fails here. It needs `npm ci` (CI runs it).
func TestBuiltAssetsUpToDate(t *testing.T) {
	tailwind, err := filepath.Abs(filepath.Join("..", "node_modules", ".bin", "tailwindcss"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tailwind); err != nil {
		t.Skipf("node_modules not installed (run `npm ci`): %v", err)
	}
	css := filepath.Join(t.TempDir(), "app.css")
	cmd := exec.Command(tailwind, "-c", "tailwind.config.js", "-i", "static/src/app.css", "-o", css, "--minify")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tailwindcss: %v\n%s", err, out)
	}
	font := filepath.Join("..", "node_modules", "@fontsource-variable", "noto-sans-kr")
	fresh := map[string]string{
		"app.css":       css,
		"htmx.min.js":   filepath.Join("..", "node_modules", "htmx.org", "dist", "htmx.min.js"),
		"sse.min.js":    filepath.Join("..", "node_modules", "htmx-ext-sse", "dist", "sse.min.js"),
		"fonts/OFL.txt": filepath.Join(font, "LICENSE"),
	}
	woff2, err := filepath.Glob(filepath.Join(font, "files", "*.woff2"))
	if err != nil || len(woff2) == 0 {
		t.Fatalf("no font files in %s: %v", font, err)
	}
	for _, f := range woff2 {
		fresh["fonts/"+filepath.Base(f)] = f
	}
	for committed, from := range fresh {
		want, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(committed)
		if !bytes.Equal(got, want) {
			t.Errorf("static/%s is stale: run `make generate` and commit it", committed)
		}
	}
	// fonts.css is the package's, pointing at fonts/ instead of files/.
	want, err := os.ReadFile(filepath.Join(font, "index.css"))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile("fonts.css")
	if !bytes.Equal(got, bytes.ReplaceAll(want, []byte("url(./files/"), []byte("url(./fonts/"))) {
		t.Error("static/fonts.css is stale: run `make generate` and commit it")
	}
	if committed, _ := filepath.Glob("fonts/*.woff2"); len(committed) != len(woff2) {
		t.Errorf("static/fonts holds %d font files, the package %d: run `make generate`", len(committed), len(woff2))
	}
}
