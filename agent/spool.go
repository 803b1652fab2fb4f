package agent

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/wcms-lab/wcms/wire"
)

// writeFileSync writes data to path through a temporary file, fsync and rename, so a crash
// leaves either the old file or the new one, never half of one.
func writeFileSync(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	syncDir(filepath.Dir(path))
	return nil
}

// syncDir makes a rename in dir durable where the OS allows it (not on Windows, where
// directories cannot be opened for sync and NTFS journals the rename itself).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// spooled is one result waiting for the server.
type spooled struct {
	name      string
	CommandID int64              `json:"command_id"`
	Result    wire.ResultRequest `json:"result"`
}

// spool keeps command results on disk, one file each, until the server has taken them.
// File names start with a sequence number, so results are delivered in the order they were made,
// also after a restart.
type spool struct {
	dir string
	mu  sync.Mutex
	seq uint64
}

func openSpool(dir string) (*spool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	s := &spool{dir: dir}
	entries, err := s.list()
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if n := seqOf(e.name); n > s.seq {
			s.seq = n
		}
	}
	return s, nil
}

func seqOf(name string) uint64 {
	n, _ := strconv.ParseUint(strings.SplitN(name, "-", 2)[0], 10, 64)
	return n
}

// put stores a result durably; once it returns nil the result survives a crash.
func (s *spool) put(commandID int64, r wire.ResultRequest) error {
	data, err := json.Marshal(spooled{CommandID: commandID, Result: r})
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.seq++
	name := fmt.Sprintf("%020d-%d.json", s.seq, commandID)
	s.mu.Unlock()
	if err := writeFileSync(filepath.Join(s.dir, name), data, 0o600); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	return nil
}

// list returns the waiting results, oldest first. An unreadable file is skipped, not fatal:
// one corrupt entry must not hold back the rest.
func (s *spool) list() ([]spooled, error) {
	des, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	var out []spooled
	for _, de := range des {
		name := de.Name()
		if de.IsDir() || !strings.HasSuffix(name, ".json") || strings.HasPrefix(name, ".") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(s.dir, name))
		if err != nil {
			continue
		}
		e := spooled{name: name}
		if json.Unmarshal(data, &e) != nil || e.CommandID == 0 {
			continue
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}

func (s *spool) remove(e spooled) error {
	err := os.Remove(filepath.Join(s.dir, e.name))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// ledgerKeep is how many executed command ids the ledger remembers; far more than can be in
// flight between a server and one PC.
const ledgerKeep = 1000

// ledger remembers which command ids this agent has started, on disk, so that a command handed
// out twice (a lost answer, a server restored from backup, an agent restart) never runs twice.
type ledger struct {
	path  string
	mu    sync.Mutex
	f     *os.File
	ids   map[int64]bool
	order []int64
}

func openLedger(path string) (*ledger, error) {
	l := &ledger{path: path, ids: map[int64]bool{}}
	if f, err := os.Open(path); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if id, err := strconv.ParseInt(strings.TrimSpace(sc.Text()), 10, 64); err == nil && !l.ids[id] {
				l.ids[id] = true
				l.order = append(l.order, id)
			}
		}
		f.Close()
	}
	if err := l.rewrite(); err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	return l, nil
}

// rewrite keeps the newest ids in a fresh file and reopens it for appending.
func (l *ledger) rewrite() error {
	if len(l.order) > ledgerKeep {
		for _, id := range l.order[:len(l.order)-ledgerKeep] {
			delete(l.ids, id)
		}
		l.order = append([]int64(nil), l.order[len(l.order)-ledgerKeep:]...)
	}
	var b strings.Builder
	for _, id := range l.order {
		b.WriteString(strconv.FormatInt(id, 10) + "\n")
	}
	if l.f != nil {
		l.f.Close()
	}
	if err := writeFileSync(l.path, []byte(b.String()), 0o600); err != nil {
		return err
	}
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND, 0o600)
	l.f = f
	return err
}

func (l *ledger) seen(id int64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ids[id]
}

// add records id durably before the command runs.
func (l *ledger) add(id int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ids[id] {
		return nil
	}
	if _, err := l.f.WriteString(strconv.FormatInt(id, 10) + "\n"); err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	l.ids[id] = true
	l.order = append(l.order, id)
	if len(l.order) > 2*ledgerKeep {
		return l.rewrite()
	}
	return nil
}

// reset forgets every id: command ids restart when the agent registers with a new server
// database.
func (l *ledger) reset() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ids, l.order = map[int64]bool{}, nil
	return l.rewrite()
}

func (l *ledger) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Close()
}
