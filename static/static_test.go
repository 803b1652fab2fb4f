package static_test

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/wcms-lab/wcms/static"
)

func TestFSHoldsTheAssetsTheViewsLink(t *testing.T) {
	for _, name := range []string{"app.css"} {
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
