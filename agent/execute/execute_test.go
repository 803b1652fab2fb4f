package execute

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wcms-lab/wcms/wire"
)

func TestUnknownTypeIsAnError(t *testing.T) {
	run := &fakeRunner{}
	res := New(Options{Runner: run, Messenger: &fakeMessenger{}}).Execute(context.Background(),
		wire.Command{ID: 1, Type: "format_disk", Parameters: map[string]any{}})
	if res.Status != wire.ResultError || !strings.Contains(res.ErrorMessage, `unknown command type "format_disk"`) {
		t.Fatalf("got %+v, want an error naming the type", res)
	}
	if len(run.processes()) != 0 {
		t.Fatalf("ran %v for an unknown type", run.processes())
	}
}

func TestMessage(t *testing.T) {
	tests := []struct {
		name   string
		params map[string]any
		err    error
		status string
		want   []shown
	}{
		{"default duration", map[string]any{"message": "수업 종료 10분 전입니다"}, nil, wire.ResultSuccess,
			[]shown{{"수업 종료 10분 전입니다", 10 * time.Second}}},
		{"duration as number", map[string]any{"message": "hi", "duration": float64(30)}, nil, wire.ResultSuccess,
			[]shown{{"hi", 30 * time.Second}}},
		{"duration as string", map[string]any{"message": "two\nlines", "duration": "5"}, nil, wire.ResultSuccess,
			[]shown{{"two\nlines", 5 * time.Second}}},
		{"messenger fails", map[string]any{"message": "hi"}, errors.New("msg.exe exited with code 1"), wire.ResultError,
			[]shown{{"hi", 10 * time.Second}}},
		{"messenger times out", map[string]any{"message": "hi"}, context.DeadlineExceeded, wire.ResultTimeout,
			[]shown{{"hi", 10 * time.Second}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &fakeMessenger{err: tt.err}
			res := New(Options{Runner: &fakeRunner{}, Messenger: m}).Execute(context.Background(),
				wire.Command{Type: wire.TypeMessage, Parameters: tt.params})
			if res.Status != tt.status {
				t.Fatalf("status %q (%s), want %q", res.Status, res.ErrorMessage, tt.status)
			}
			if tt.err != nil && !strings.Contains(res.ErrorMessage, tt.err.Error()) {
				t.Errorf("error message %q does not say %q", res.ErrorMessage, tt.err)
			}
			if len(m.shown) != len(tt.want) || m.shown[0] != tt.want[0] {
				t.Errorf("shown %+v, want %+v", m.shown, tt.want)
			}
		})
	}
}

// Bad parameters are refused with a message naming the parameter, before anything runs.
func TestBadParametersNeverRun(t *testing.T) {
	tests := []struct {
		typ    string
		params map[string]any
		want   string // in the error message
	}{
		{wire.TypeShutdown, map[string]any{"delay": -1}, `"delay"`},
		{wire.TypeRestart, map[string]any{"delay": 1.5}, `"delay"`},
		{wire.TypeReboot, map[string]any{"delay": "soon"}, `"delay"`},
		{wire.TypeShutdown, map[string]any{"message": strings.Repeat("x", 513)}, `"message"`},
		{wire.TypeMessage, map[string]any{}, `"message" is required`},
		{wire.TypeMessage, map[string]any{"message": 42}, `"message" must be a string`},
		{wire.TypeMessage, map[string]any{"message": "a\x00b"}, `"message"`},
		{wire.TypeMessage, map[string]any{"message": "hi", "duration": 0}, `"duration"`},
		{wire.TypeKillProcess, map[string]any{}, `"process_name" is required`},
		{wire.TypeKillProcess, map[string]any{"process_name": `C:\Windows\explorer.exe`}, `"process_name"`},
		{wire.TypeKillProcess, map[string]any{"process_name": "../sleep"}, `"process_name"`},
		{wire.TypeKillProcess, map[string]any{"process_name": "*"}, `"process_name"`},
		{wire.TypeKillProcess, map[string]any{"process_name": "-9"}, `"process_name"`},
		{wire.TypeExecute, map[string]any{"command": ""}, `"command" is required`},
		{wire.TypeExecute, map[string]any{"command": []any{"ls"}}, `"command" must be a string`},
		{wire.TypeInstall, map[string]any{"app_id": "vlc; rm -rf /"}, `"app_id"`},
		{wire.TypeInstall, map[string]any{"app_id": "-y"}, `"app_id"`},
		{wire.TypeUninstall, map[string]any{}, `"app_id" is required`},
		{wire.TypeDownload, map[string]any{"url": "ftp://example.com/a", "destination": "/tmp/a"}, `"url"`},
		{wire.TypeDownload, map[string]any{"url": "file:///etc/passwd", "destination": "/tmp/a"}, `"url"`},
		{wire.TypeDownload, map[string]any{"url": "http://example.com/a", "destination": "a.txt"}, `"destination"`},
		{wire.TypeDownload, map[string]any{"url": "http://example.com/a"}, `"destination" is required`},
		{wire.TypeCreateUser, map[string]any{"username": "-rf", "password": "pw"}, `"username"`},
		{wire.TypeCreateUser, map[string]any{"username": "kim minsu", "password": "pw"}, `"username"`},
		{wire.TypeCreateUser, map[string]any{"username": "abcdefghijklmnopqrstu", "password": "pw"}, `"username"`},
		{wire.TypeCreateUser, map[string]any{"username": "kim"}, `"password" is required`},
		{wire.TypeCreateUser, map[string]any{"username": "kim", "password": "a\nb"}, `"password"`},
		{wire.TypeCreateUser, map[string]any{"username": "kim", "password": strings.Repeat("p", 128)}, `"password"`},
		{wire.TypeCreateUser, map[string]any{"username": "kim", "password": "pw", "language": "Korean"}, `"language"`},
		{wire.TypeCreateUser, map[string]any{"username": "kim", "password": "pw", "full_name": "a\tb"}, `"full_name"`},
		{wire.TypeDeleteUser, map[string]any{"username": "root;id"}, `"username"`},
		{wire.TypeChangePassword, map[string]any{"username": "kim"}, `"new_password" is required`},
		{wire.TypeChangePassword, map[string]any{"new_password": "pw"}, `"username" is required`},
	}
	for _, tt := range tests {
		t.Run(tt.typ+" "+tt.want, func(t *testing.T) {
			run, m := &fakeRunner{}, &fakeMessenger{}
			res := New(Options{Runner: run, Messenger: m}).Execute(context.Background(),
				wire.Command{Type: tt.typ, Parameters: tt.params})
			if res.Status != wire.ResultError || !strings.Contains(res.ErrorMessage, tt.want) {
				t.Fatalf("got status %q, error %q; want an error with %s", res.Status, res.ErrorMessage, tt.want)
			}
			if res.After != nil {
				t.Error("a refused command has an After step")
			}
			if len(run.processes()) != 0 || len(m.shown) != 0 {
				t.Fatalf("ran %+v and showed %+v for a refused command", run.processes(), m.shown)
			}
		})
	}
}

// blockingRunner waits for its context to end, as a process that never finishes would.
type blockingRunner struct{ deadline time.Time }

func (b *blockingRunner) Run(ctx context.Context, _ Process) ([]byte, int, error) {
	b.deadline, _ = ctx.Deadline()
	<-ctx.Done()
	return []byte("partial"), 137, ctx.Err()
}

func TestCommandTimeout(t *testing.T) {
	run := &blockingRunner{}
	before := time.Now()
	res := New(Options{Runner: run}).Execute(context.Background(),
		wire.Command{Type: wire.TypeExecute, Parameters: map[string]any{"command": "wait forever"}, Timeout: 1})
	checkDeadline(t, run.deadline, before, time.Second)
	if res.Status != wire.ResultTimeout || !strings.HasPrefix(res.ErrorMessage, "timed out after 1s") {
		t.Fatalf("got %q %q, want a timeout after 1s", res.Status, res.ErrorMessage)
	}
	if res.Output != "partial" || res.ExitCode == nil || *res.ExitCode != 137 {
		t.Errorf("output %q, exit code %v: what the process gave is lost", res.Output, res.ExitCode)
	}
}

// checkDeadline checks that a process started after before was given the time it should have.
func checkDeadline(t *testing.T, deadline, before time.Time, want time.Duration) {
	t.Helper()
	if deadline.Before(before.Add(want)) || deadline.After(time.Now().Add(want)) {
		t.Errorf("the process had until %v from %v, want %v", deadline, before, want)
	}
}

func TestDefaultTimeout(t *testing.T) {
	tests := []struct {
		name    string
		timeout int
	}{{"absent", 0}, {"negative", -5}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := &deadlineRunner{}
			before := time.Now()
			New(Options{Runner: run}).Execute(context.Background(),
				wire.Command{Type: wire.TypeExecute, Parameters: map[string]any{"command": "true"}, Timeout: tt.timeout})
			checkDeadline(t, run.deadline, before, 300*time.Second)
		})
	}
}

// deadlineRunner notes its context's deadline and succeeds.
type deadlineRunner struct{ deadline time.Time }

func (d *deadlineRunner) Run(ctx context.Context, _ Process) ([]byte, int, error) {
	d.deadline, _ = ctx.Deadline()
	return nil, 0, nil
}

// A messenger's process that times out makes the message command a timeout too.
func TestMessengerTimeout(t *testing.T) {
	p := procs{runner: &blockingRunner{}, codepage: utf8CodePage}
	e := New(Options{Runner: &fakeRunner{}, Messenger: msgExe{procs: p, system32: testSystem32}})
	res := e.Execute(context.Background(), wire.Command{Type: wire.TypeMessage, Parameters: map[string]any{"message": "hi"}, Timeout: 1})
	if res.Status != wire.ResultTimeout || !strings.Contains(res.ErrorMessage, "msg.exe was killed") {
		t.Fatalf("got %q %q, want a timeout", res.Status, res.ErrorMessage)
	}
}
