//go:build unix

package collect

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/shirou/gopsutil/v4/host"
)

func TestPickConsoleUser(t *testing.T) {
	tests := []struct{ file, want string }{
		{"gdm-wayland.json", "student"},
		{"lightdm-x11.json", "student"},
		{"ssh-only.json", ""},
		{"ssh-and-text-console.json", "student"},
		{"fast-user-switching.json", "bob"},
		{"loginctl-seat.json", "student"},
		{"screen-over-ssh.json", ""},
		{"local-terminal.json", "dev"},
		{"nobody.json", ""},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "users", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			var users []host.UserStat
			if err := json.Unmarshal(data, &users); err != nil {
				t.Fatal(err)
			}
			if got := pickConsoleUser(users); got != tt.want {
				t.Errorf("pickConsoleUser = %q, want %q", got, tt.want)
			}
		})
	}
}
