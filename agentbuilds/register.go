package agentbuilds

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/wcms-lab/wcms/models"
)

// RegisterDir registers, at start, every wcms-agent* file in dir that is an agent build not
// registered yet, so that `make build` and a start serve the fresh builds. A missing dir is
// nothing to do; a file that is no usable build is skipped with a log line.
func (bs *Builds) RegisterDir(ctx context.Context, dir string, log *slog.Logger) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("agent builds: %w", err)
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "wcms-agent") {
			continue
		}
		if err := bs.registerFile(ctx, filepath.Join(dir, e.Name()), log); err != nil {
			return err
		}
	}
	return nil
}

func (bs *Builds) registerFile(ctx context.Context, path string, log *slog.Logger) error {
	f, err := os.Open(path)
	if err != nil {
		log.Warn("agent build skipped", "file", path, "err", err)
		return nil
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return nil
	}
	sb, err := bs.Stage(f)
	if err != nil {
		return fmt.Errorf("agent builds: %s: %w", path, err)
	}
	defer sb.Discard()
	b, err := bs.Add(ctx, sb, "", "agent-dir")
	var refused *Refused
	switch {
	case err == nil:
		log.Info("agent build registered", "file", path, "id", b.ID, "version", b.Version, "os", b.OS, "arch", b.Arch, "sha256", b.SHA256)
	case errors.Is(err, models.ErrDuplicate): // registered at an earlier start
	case errors.Is(err, ErrNotGoBinary):
		log.Debug("agent build skipped", "file", path, "reason", "not a Go binary")
	case errors.As(err, &refused):
		log.Warn("agent build skipped", "file", path, "reason", refused.Reason)
	default:
		return fmt.Errorf("agent builds: %s: %w", path, err)
	}
	return nil
}
