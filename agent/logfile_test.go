package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLogFileRotates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agent.log")
	l, err := OpenLogFile(path, 100)
	if err != nil {
		t.Fatal(err)
	}
	line := strings.Repeat("x", 39) + "\n"
	for range 5 {
		if _, err := l.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	cur, _ := os.ReadFile(path)
	old, _ := os.ReadFile(path + ".1")
	// 5 lines of 40 bytes with a 100-byte limit: files of 2, 2 and 1 lines; the oldest is gone.
	if len(cur) != 40 || len(old) != 80 {
		t.Fatalf("current %d bytes, previous %d bytes; want 40 and 80", len(cur), len(old))
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("log mode %v: it must not be readable by others", fi.Mode())
	}
}
