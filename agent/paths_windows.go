package agent

import (
	"os"
	"path/filepath"
)

// DefaultDataDir is where the service keeps its config, token and spool: under ProgramData,
// which only administrators and SYSTEM can write.
func DefaultDataDir() string {
	base := os.Getenv("ProgramData")
	if base == "" {
		base = `C:\ProgramData`
	}
	return filepath.Join(base, "WCMS")
}
