//go:build !windows

package agent

// DefaultDataDir is where the daemon keeps its config, token and spool.
func DefaultDataDir() string { return "/var/lib/wcms-agent" }
