package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/semver"
)

// Self-update, in the order it happens:
//  1. the running build asks the server for the newest version and, when it is newer, downloads
//     it next to itself, checks its SHA-256 and runs `selfcheck` with it (it must start, read the
//     config and reach the server);
//  2. it renames itself to .old, puts the new build in its place (Windows allows renaming a
//     running executable), writes update.json and restarts;
//  3. the new build counts its starts in update.json and, once a poll succeeds, deletes the
//     marker and the .old file. If it does not reach the server within UpdateConfirm, or is
//     started more than maxUpdateStarts times without confirming, it puts .old back and restarts;
//     the old build then skips that version for failedUpdateHold.

const (
	maxAgentSize     = 256 << 20
	maxUpdateStarts  = 3
	failedUpdateHold = 24 * time.Hour
)

type updateMarker struct {
	From     string    `json:"from"`
	To       string    `json:"to"`
	Exe      string    `json:"exe"`
	Starts   int       `json:"starts"`
	Replaced time.Time `json:"replaced"`
}

func (a *Agent) markerPath() string { return filepath.Join(a.cfg.DataDir, "update.json") }
func (a *Agent) failedPath() string { return filepath.Join(a.cfg.DataDir, "update-failed.json") }

func (a *Agent) loadMarker() (updateMarker, bool) {
	var m updateMarker
	data, err := os.ReadFile(a.markerPath())
	if err != nil || json.Unmarshal(data, &m) != nil || m.Exe == "" {
		return m, false
	}
	return m, true
}

// failedVersions reads update-failed.json: the versions that did not come up, with when. A missing
// or damaged file counts as none.
func (a *Agent) failedVersions() map[string]time.Time {
	failed := map[string]time.Time{}
	if data, err := os.ReadFile(a.failedPath()); err == nil {
		_ = json.Unmarshal(data, &failed)
	}
	return failed
}

func (a *Agent) saveJSON(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return writeFileSync(path, data, 0o600)
}

// newer tells whether version v is newer than ours. A development build never updates itself.
func newer(v, ours string) bool {
	v, ours = "v"+strings.TrimPrefix(v, "v"), "v"+strings.TrimPrefix(ours, "v")
	return semver.IsValid(v) && semver.IsValid(ours) && semver.Compare(v, ours) > 0
}

func (a *Agent) requestRestart() {
	a.restartOnce.Do(func() { close(a.restart) })
}

// updater checks for a new build once the agent is online, then every UpdateInterval.
func (a *Agent) updater(ctx context.Context) {
	select {
	case <-a.online:
	case <-ctx.Done():
		return
	}
	for {
		switch err := a.checkUpdate(ctx); {
		case errors.Is(err, ErrRestart):
			a.requestRestart()
			return
		case err != nil && ctx.Err() == nil:
			a.log.Warn("self-update failed; the current build keeps running", "err", err)
		}
		// ±10 % so a lab's PCs do not all ask in the same second.
		jitter := time.Duration(rand.Int64N(int64(a.cfg.UpdateInterval)/5+1)) - a.cfg.UpdateInterval/10
		if !sleep(ctx, a.cfg.UpdateInterval+jitter) {
			return
		}
	}
}

// checkUpdate installs the server's newest build when it is newer; ErrRestart means it did.
func (a *Agent) checkUpdate(ctx context.Context) error {
	v, err := a.cl.version(ctx)
	if err != nil {
		return fmt.Errorf("version check: %w", err)
	}
	if v.SHA256 == "" || !newer(v.Version, a.cfg.Version) {
		a.log.Debug("no newer build", "ours", a.cfg.Version, "server", v.Version)
		return nil
	}
	if at, ok := a.failedVersions()[v.Version]; ok && time.Since(at) < failedUpdateHold {
		a.log.Info("not retrying a build that failed to come up", "version", v.Version, "failed_at", at)
		return nil
	}
	exe := a.cfg.Executable
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err == nil {
			exe, err = filepath.EvalSymlinks(exe)
		}
		if err != nil {
			return fmt.Errorf("update: own path: %w", err)
		}
	}
	log := a.log.With("from", a.cfg.Version, "to", v.Version)
	log.Info("downloading a newer agent build", "url", v.DownloadURL)
	fresh := exe + ".new"
	if err := a.fetchBuild(ctx, v.DownloadURL, v.SHA256, fresh); err != nil {
		return fmt.Errorf("update to %s: %w", v.Version, err)
	}
	if err := a.selfcheck(ctx, fresh, v.Version); err != nil {
		os.Remove(fresh)
		return fmt.Errorf("update to %s: the new build failed its self-check: %w", v.Version, err)
	}
	old := exe + ".old"
	os.Remove(old)
	if err := os.Rename(exe, old); err != nil {
		os.Remove(fresh)
		return fmt.Errorf("update: move the running build aside: %w", err)
	}
	if err := os.Rename(fresh, exe); err != nil {
		_ = os.Rename(old, exe)
		return fmt.Errorf("update: put the new build in place: %w", err)
	}
	m := updateMarker{From: a.cfg.Version, To: v.Version, Exe: exe, Replaced: time.Now().UTC()}
	if err := a.saveJSON(a.markerPath(), m); err != nil {
		// Without the marker nothing could roll back: undo.
		_ = os.Rename(old, exe)
		return fmt.Errorf("update: marker: %w", err)
	}
	log.Info("new build in place; restarting into it")
	return ErrRestart
}

// fetchBuild downloads url to path and checks its SHA-256.
func (a *Agent) fetchBuild(ctx context.Context, url, want, path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o755)
	if err != nil {
		return err
	}
	h := sha256.New()
	err = a.cl.download(ctx, url, io.MultiWriter(f, h), maxAgentSize)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && !strings.EqualFold(hex.EncodeToString(h.Sum(nil)), want) {
		err = fmt.Errorf("SHA-256 mismatch: got %x, the server announced %s", h.Sum(nil), want)
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

// selfcheck runs the new build's `selfcheck`: it must start, report the announced version, read
// this agent's config and reach the server.
func (a *Agent) selfcheck(ctx context.Context, path, version string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "selfcheck", "-data", a.cfg.DataDir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(string(out)))
	}
	if !strings.Contains(string(out), "wcms-agent "+version+" ") {
		return fmt.Errorf("it reports %q, want version %s", strings.TrimSpace(string(out)), version)
	}
	return nil
}

// Selfcheck is what `wcms-agent selfcheck` does for a build about to replace the running one.
func (a *Agent) Selfcheck(ctx context.Context) error {
	if a.state().PCID == 0 {
		return errors.New("not registered: run install first")
	}
	if _, err := a.cl.version(ctx); err != nil {
		return fmt.Errorf("cannot reach %s: %w", a.state().Server, err)
	}
	return nil
}

// resumeUpdate runs at start: a build started after an update counts the start, and rolls back
// when it has been started too often without reaching the server.
func (a *Agent) resumeUpdate() error {
	m, ok := a.loadMarker()
	if !ok {
		return nil
	}
	if m.To != a.cfg.Version {
		// The old build after a rollback, or a build replaced by hand: nothing to confirm.
		os.Remove(a.markerPath())
		return nil
	}
	m.Starts++
	if m.Starts > maxUpdateStarts {
		return a.rollback(m, fmt.Sprintf("started %d times without reaching the server", m.Starts-1))
	}
	return a.saveJSON(a.markerPath(), m)
}

// confirmUpdate keeps the new build once a poll succeeds, or rolls back after UpdateConfirm.
func (a *Agent) confirmUpdate(ctx context.Context) {
	m, ok := a.loadMarker()
	if !ok || m.To != a.cfg.Version {
		return
	}
	t := time.NewTimer(a.cfg.UpdateConfirm)
	defer t.Stop()
	select {
	case <-a.online:
		os.Remove(a.markerPath())
		os.Remove(m.Exe + ".old")
		a.log.Info("update confirmed: the new build reached the server", "from", m.From, "to", m.To)
	case <-t.C:
		if err := a.rollback(m, "no successful poll within "+a.cfg.UpdateConfirm.String()); errors.Is(err, ErrRestart) {
			a.requestRestart()
		}
	case <-ctx.Done():
	}
}

// rollback puts the previous build back and returns ErrRestart (or why it could not).
func (a *Agent) rollback(m updateMarker, why string) error {
	a.log.Error("the new build did not come up; rolling back", "from", m.To, "to", m.From, "why", why)
	bad := m.Exe + ".bad"
	os.Remove(bad)
	if err := os.Rename(m.Exe, bad); err != nil {
		return fmt.Errorf("rollback: %w", err)
	}
	if err := os.Rename(m.Exe+".old", m.Exe); err != nil {
		_ = os.Rename(bad, m.Exe)
		return fmt.Errorf("rollback: restore %s.old: %w", m.Exe, err)
	}
	failed := a.failedVersions()
	failed[m.To] = time.Now().UTC()
	if err := a.saveJSON(a.failedPath(), failed); err != nil {
		a.log.Warn("cannot record the failed version", "err", err)
	}
	os.Remove(a.markerPath())
	return ErrRestart
}
