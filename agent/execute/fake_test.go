package execute

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wcms-lab/wcms/wire"
)

// runCommand runs command through e's shell, as the execute command does.
func runCommand(t *testing.T, e Executor, command string, timeout int) Result {
	t.Helper()
	return e.Execute(context.Background(), wire.Command{
		Type: wire.TypeExecute, Parameters: map[string]any{"command": command}, Timeout: timeout,
	})
}

// reply is what a fakeRunner answers for one process.
type reply struct {
	out  string
	code int
	err  error
}

// fakeRunner records the processes it is asked to run and answers from replies, keyed by
// program name (the last path element) and first argument ("net.exe localgroup"), or by program
// name alone; unlisted programs succeed silently.
type fakeRunner struct {
	mu      sync.Mutex
	ran     []Process
	replies map[string]reply
}

func (f *fakeRunner) Run(_ context.Context, p Process) ([]byte, int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ran = append(f.ran, p)
	name := programName(p.Path)
	r, ok := reply{}, false
	if len(p.Args) > 0 {
		r, ok = f.replies[name+" "+p.Args[0]]
	}
	if !ok {
		r = f.replies[name]
	}
	return []byte(r.out), r.code, r.err
}

func (f *fakeRunner) processes() []Process {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Process(nil), f.ran...)
}

// shown is one message a fakeMessenger showed.
type shown struct {
	text     string
	duration time.Duration
}

type fakeMessenger struct {
	mu    sync.Mutex
	shown []shown
	err   error
}

func (m *fakeMessenger) Show(_ context.Context, text string, d time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.shown = append(m.shown, shown{text, d})
	return m.err
}

// tempDir is t.TempDir for tests that also run under Wine 8, whose lack of
// FileDispositionInformationEx fails os.RemoveAll there: it removes the tree one entry at a time.
func tempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "wcms-execute-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		var paths []string
		filepath.WalkDir(dir, func(path string, _ fs.DirEntry, err error) error {
			paths = append(paths, path)
			return err
		})
		for _, p := range slices.Backward(paths) {
			if err := os.Remove(p); err != nil {
				t.Errorf("clean up: %v", err)
			}
		}
	})
	return dir
}
