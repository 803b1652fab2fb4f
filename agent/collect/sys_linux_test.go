package collect

import (
	"os"
	"path/filepath"
	"testing"
)

func TestParseOSRelease(t *testing.T) {
	tests := []struct{ file, want string }{
		{"debian-12", "Debian GNU/Linux 12 (bookworm)"},
		{"ubuntu-24.04", "Ubuntu 24.04.1 LTS"},
		{"fedora-40", "Fedora Linux 40 (Workstation Edition)"},
		{"arch", "Arch Linux"},
		{"alpine-3.20", "Alpine Linux v3.20"},
		{"no-pretty-name", `Lab OS 1.0 "Kiwi"`},
		{"quoted", `Lab "Image" 2024 $HOME \ edition`},
		{"empty", ""},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "os-release", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if got := parseOSRelease(data); got != tt.want {
				t.Errorf("parseOSRelease = %q, want %q", got, tt.want)
			}
		})
	}
}
