package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// spawned is a server binary started by the load generator, on a free loopback port with a
// fresh database in a temporary folder.
type spawned struct {
	URL  string
	PID  int
	dir  string
	cmd  *exec.Cmd
	done chan error
}

// spawnServer starts bin and waits until it answers /healthz; legacy serves calls without an
// agent token, as the published client makes them.
func spawnServer(ctx context.Context, bin, adminPassword string, legacy bool) (*spawned, error) {
	dir, err := os.MkdirTemp("", "wcms-loadgen-")
	if err != nil {
		return nil, fmt.Errorf("spawn: %w", err)
	}
	addr, err := freeLoopbackAddr()
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("spawn: %w", err)
	}
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("spawn: %w", err)
	}
	defer logf.Close() // the child has its own copy
	// -agent-dir points at the empty folder so the server does not pick up builds from ours.
	cmd := exec.Command(bin, "-addr", addr, "-db", filepath.Join(dir, "wcms.db"), "-agent-dir", dir, "-log-level", "warn",
		"-legacy-clients="+strconv.FormatBool(legacy))
	cmd.Env = append(os.Environ(), "WCMS_ADMIN_PASSWORD="+adminPassword)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("spawn %s: %w", bin, err)
	}
	s := &spawned{URL: "http://" + addr, PID: cmd.Process.Pid, dir: dir, cmd: cmd, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait() }()
	if err := s.waitHealthy(ctx, 30*time.Second); err != nil {
		log := s.stop()
		return nil, fmt.Errorf("spawn %s: %w\n%s", bin, err, log)
	}
	return s, nil
}

func (s *spawned) waitHealthy(ctx context.Context, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/healthz", nil)
		if err != nil {
			return err
		}
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-s.done:
			return fmt.Errorf("server exited: %v", err)
		case <-ctx.Done():
			return fmt.Errorf("no healthy /healthz within %s", within)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stop ends the server (SIGTERM, then SIGKILL after 20 s), removes its folder and returns the
// end of its log, for error messages.
func (s *spawned) stop() string {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	b, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
	os.RemoveAll(s.dir)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-20):], "\n")
}

func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
