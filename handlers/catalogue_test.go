package handlers_test

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wcms-lab/wcms/agent/execute"
	"github.com/wcms-lab/wcms/wire"
)

// reached stands in for everything the agent's executor acts through (processes, messages,
// downloads) and only counts that it was reached: a command that reaches it got past the
// agent's parameter checks. Processes "fail" (exit 1) so no per-OS step goes further.
type reached struct {
	mu sync.Mutex
	n  int
}

func (r *reached) hit() {
	r.mu.Lock()
	r.n++
	r.mu.Unlock()
}

func (r *reached) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

func (r *reached) Run(context.Context, execute.Process) ([]byte, int, error) {
	r.hit()
	return nil, 1, nil
}

func (r *reached) Show(context.Context, string, time.Duration) error {
	r.hit()
	return nil
}

func (r *reached) RoundTrip(*http.Request) (*http.Response, error) {
	r.hit()
	return nil, errors.New("test: no network")
}

// agentRuns runs a command through a real executor and reports whether the agent would run it;
// when it refuses, why. A refusal is a parameter error before anything was reached.
func agentRuns(t *testing.T, typ string, params map[string]any) (bool, string) {
	t.Helper()
	r := &reached{}
	e := execute.New(execute.Options{Runner: r, Messenger: r, HTTPClient: &http.Client{Transport: r}})
	res := e.Execute(context.Background(), wire.Command{ID: 1, Type: typ, Parameters: params, Timeout: 5})
	if res.Status == wire.ResultSuccess || r.count() > 0 {
		return true, ""
	}
	if !strings.HasPrefix(res.ErrorMessage, "parameter ") && !strings.HasPrefix(res.ErrorMessage, "unknown command type") {
		t.Fatalf("%s %v: the agent failed for another reason than its checks: %q", typ, params, res.ErrorMessage)
	}
	return false, res.ErrorMessage
}

type catalogueCase struct {
	name   string
	typ    string
	params map[string]any
	bad    string // the parameter both sides must name when refusing; "" when the command is good
	// serverOnly: only the server refuses (a key the type does not have); the agent, liberal in
	// what it takes from any server, runs the command without it.
	serverOnly bool
}

// catalogueCases are good and bad parameter sets for every command type: boundaries, wrong
// kinds, missing and unknown keys, lengths, unicode and spaces. dest is an absolute path on the
// test's OS.
func catalogueCases(dest string) []catalogueCase {
	long := func(s string, n int) string { return strings.Repeat(s, n) }
	p := func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	var cs []catalogueCase
	add := func(typ, name, bad string, params map[string]any) {
		cs = append(cs, catalogueCase{name: name, typ: typ, params: params, bad: bad})
	}
	addExtra := func(typ, key string, params map[string]any) {
		cs = append(cs, catalogueCase{name: "unknown key", typ: typ, params: params, bad: key, serverOnly: true})
	}
	for _, typ := range []string{wire.TypeShutdown, wire.TypeRestart, wire.TypeReboot} {
		add(typ, "no parameters", "", p())
		add(typ, "delay 0", "", p("delay", 0))
		add(typ, "delay a day", "", p("delay", 86400))
		add(typ, "delay null", "", p("delay", nil))
		add(typ, "delay as text", "", p("delay", "30"))
		add(typ, "delay over a day", "delay", p("delay", 86401))
		add(typ, "delay negative", "delay", p("delay", -1))
		add(typ, "delay fraction", "delay", p("delay", 1.5))
		add(typ, "delay a word", "delay", p("delay", "soon"))
		add(typ, "delay a bool", "delay", p("delay", true))
		add(typ, "korean message", "", p("message", "수업이 끝났습니다. 저장하세요"))
		add(typ, "512-character message", "", p("message", long("한", 512)))
		add(typ, "600-character message", "message", p("message", long("x", 600)))
		add(typ, "message with a bell", "message", p("message", "bell\a"))
		add(typ, "message a number", "message", p("message", 5))
		addExtra(typ, "force", p("force", true))
	}
	add(wire.TypeMessage, "text", "", p("message", "hi"))
	add(wire.TypeMessage, "lines and tabs", "", p("message", "two\nlines\r\n\tindented"))
	add(wire.TypeMessage, "512 characters", "", p("message", long("한", 512)))
	add(wire.TypeMessage, "513 characters", "message", p("message", long("한", 513)))
	add(wire.TypeMessage, "600 characters", "message", p("message", long("x", 600)))
	add(wire.TypeMessage, "missing", "message", p())
	add(wire.TypeMessage, "blank", "message", p("message", "   "))
	add(wire.TypeMessage, "a number", "message", p("message", 42))
	add(wire.TypeMessage, "control character", "message", p("message", "a\x01b"))
	add(wire.TypeMessage, "duration 1", "", p("message", "hi", "duration", 1))
	add(wire.TypeMessage, "duration a day", "", p("message", "hi", "duration", 86400))
	add(wire.TypeMessage, "duration as text", "", p("message", "hi", "duration", "5"))
	add(wire.TypeMessage, "duration 0", "duration", p("message", "hi", "duration", 0))
	add(wire.TypeMessage, "duration over a day", "duration", p("message", "hi", "duration", 86401))
	add(wire.TypeMessage, "duration a word", "duration", p("message", "hi", "duration", "ten"))

	add(wire.TypeKillProcess, "exe", "", p("process_name", "chrome.exe"))
	add(wire.TypeKillProcess, "spaces", "", p("process_name", "Code - Insiders.exe"))
	add(wire.TypeKillProcess, "korean", "", p("process_name", "한글.exe"))
	add(wire.TypeKillProcess, "255 bytes", "", p("process_name", long("a", 255)))
	add(wire.TypeKillProcess, "256 bytes", "process_name", p("process_name", long("a", 256)))
	add(wire.TypeKillProcess, "a path", "process_name", p("process_name", `C:\Windows\explorer.exe`))
	add(wire.TypeKillProcess, "a wildcard", "process_name", p("process_name", "chrome*"))
	add(wire.TypeKillProcess, "an option", "process_name", p("process_name", "-9"))
	add(wire.TypeKillProcess, "missing", "process_name", p())

	add(wire.TypeExecute, "shell", "", p("command", `echo "a & b" | findstr a`))
	add(wire.TypeExecute, "korean", "", p("command", "echo 안녕"))
	add(wire.TypeExecute, "8191 bytes", "", p("command", long("x", 8191)))
	add(wire.TypeExecute, "8192 bytes", "command", p("command", long("x", 8192)))
	add(wire.TypeExecute, "empty", "command", p("command", ""))
	add(wire.TypeExecute, "blank", "command", p("command", "   "))
	add(wire.TypeExecute, "a list", "command", p("command", []any{"ls"}))

	for _, typ := range []string{wire.TypeInstall, wire.TypeUninstall} {
		add(typ, "plain", "", p("app_id", "vlc"))
		add(typ, "dotted", "", p("app_id", "7zip.install"))
		add(typ, "plus", "", p("app_id", "libstdc++6"))
		add(typ, "100 characters", "", p("app_id", long("a", 100)))
		add(typ, "101 characters", "app_id", p("app_id", long("a", 101)))
		add(typ, "an option", "app_id", p("app_id", "-y"))
		add(typ, "two packages", "app_id", p("app_id", "vlc firefox"))
		add(typ, "a shell", "app_id", p("app_id", "vlc;calc"))
		add(typ, "korean", "app_id", p("app_id", "한글"))
		add(typ, "missing", "app_id", p())
	}

	const u = "https://example.com/a.zip"
	add(wire.TypeDownload, "https", "", p("url", u, "destination", dest))
	add(wire.TypeDownload, "http with port", "", p("url", "http://10.0.0.1:8080/x?y=1", "destination", dest))
	add(wire.TypeDownload, "ftp", "url", p("url", "ftp://example.com/a", "destination", dest))
	add(wire.TypeDownload, "file", "url", p("url", "file:///etc/passwd", "destination", dest))
	add(wire.TypeDownload, "no host", "url", p("url", "http:///x", "destination", dest))
	add(wire.TypeDownload, "relative destination", "destination", p("url", u, "destination", "a.txt"))
	add(wire.TypeDownload, "control character in destination", "destination", p("url", u, "destination", dest+"\x01"))
	add(wire.TypeDownload, "missing destination", "destination", p("url", u))
	add(wire.TypeDownload, "missing url", "url", p("destination", dest))

	const pw = "S3cret pass!"
	add(wire.TypeCreateUser, "minimal", "", p("username", "kim", "password", pw))
	add(wire.TypeCreateUser, "everything", "", p("username", "student.01", "password", "비밀번호", "full_name", "김민수",
		"comment", "Lab 3 seat 4", "language", "ko-KR"))
	add(wire.TypeCreateUser, "language with underscore", "", p("username", "kim", "password", pw, "language", "en_us"))
	add(wire.TypeCreateUser, "no language", "", p("username", "kim", "password", pw, "language", ""))
	add(wire.TypeCreateUser, "20-character username", "", p("username", long("a", 20), "password", pw))
	add(wire.TypeCreateUser, "127-byte password", "", p("username", "kim", "password", long("p", 127)))
	add(wire.TypeCreateUser, "korean username", "username", p("username", "김민수", "password", pw))
	add(wire.TypeCreateUser, "username with a space", "username", p("username", "kim minsu", "password", pw))
	add(wire.TypeCreateUser, "username an option", "username", p("username", "-rf", "password", pw))
	add(wire.TypeCreateUser, "21-character username", "username", p("username", long("a", 21), "password", pw))
	add(wire.TypeCreateUser, "missing username", "username", p("password", pw))
	add(wire.TypeCreateUser, "missing password", "password", p("username", "kim"))
	add(wire.TypeCreateUser, "128-byte password", "password", p("username", "kim", "password", long("p", 128)))
	add(wire.TypeCreateUser, "password with a line break", "password", p("username", "kim", "password", "a\nb"))
	add(wire.TypeCreateUser, "language en", "language", p("username", "kim", "password", pw, "language", "en"))
	add(wire.TypeCreateUser, "language a word", "language", p("username", "kim", "password", pw, "language", "Korean"))
	add(wire.TypeCreateUser, "full name with a tab", "full_name", p("username", "kim", "password", pw, "full_name", "a\tb"))
	add(wire.TypeCreateUser, "257-character comment", "comment", p("username", "kim", "password", pw, "comment", long("설", 257)))
	addExtra(wire.TypeCreateUser, "groups", p("username", "kim", "password", pw, "groups", "Administrators"))

	add(wire.TypeDeleteUser, "plain", "", p("username", "lab_3-a"))
	add(wire.TypeDeleteUser, "a domain", "username", p("username", `LAB\admin`))
	add(wire.TypeDeleteUser, "a shell", "username", p("username", "root;id"))
	add(wire.TypeDeleteUser, "korean", "username", p("username", "김"))
	add(wire.TypeDeleteUser, "missing", "username", p())

	add(wire.TypeChangePassword, "plain", "", p("username", "kim", "new_password", pw))
	add(wire.TypeChangePassword, "missing password", "new_password", p("username", "kim"))
	add(wire.TypeChangePassword, "missing username", "username", p("new_password", pw))
	add(wire.TypeChangePassword, "128-byte password", "new_password", p("username", "kim", "new_password", long("p", 128)))
	add(wire.TypeChangePassword, "korean username", "username", p("username", "김민수", "new_password", pw))
	return cs
}

// A command the server accepts is one the agent will run, and one it refuses the agent refuses
// too (but for keys the type does not have, which the agent leaves out): every case goes through the real admin API and, as the agent would receive it, through
// the real executor, and both must agree and name the same parameter.
func TestServerAndAgentAgreeOnParameters(t *testing.T) {
	ts := newTestServer(t)
	a := ts.admin()
	ag := ts.register(ts.pin(a, "single"), "M1")
	ag.poll(nil).must(t, 200) // on: a shutdown is not queued for a PC that is off
	path := "/api/admin/pc/" + itoa(ag.PCID) + "/command"
	for _, tt := range catalogueCases(filepath.Join(t.TempDir(), "a.zip")) {
		t.Run(tt.typ+" "+tt.name, func(t *testing.T) {
			res := a.do("POST", path, map[string]any{"type": tt.typ, "parameters": tt.params})
			serverOK := res.Status == 200
			var delivered map[string]any
			if serverOK {
				// Taken off the queue at once, so no case leaves a command for the next.
				delivered = ag.poll(nil).must(t, 200).get("data.command").(map[string]any)
			}
			agentOK, why := agentRuns(t, tt.typ, tt.params)
			if serverOK != (tt.bad == "") || agentOK != (tt.bad == "" || tt.serverOnly) {
				t.Fatalf("server %d %s; agent runs it: %v %s; want good: %v", res.Status, res.Raw, agentOK, why, tt.bad == "")
			}
			if !serverOK {
				if msg, _ := res.get("error.message").(string); res.Status != 400 || !strings.Contains(msg, "parameters."+tt.bad) {
					t.Errorf("server: %d %s; want a 400 naming parameters.%s", res.Status, res.Raw, tt.bad)
				}
				if !tt.serverOnly && !strings.Contains(why, `"`+tt.bad+`"`) {
					t.Errorf("agent: %q does not name %q", why, tt.bad)
				}
				return
			}
			// What the server delivers (normalised, defaults filled in) still runs.
			params, _ := delivered["parameters"].(map[string]any)
			if ok, why := agentRuns(t, delivered["type"].(string), params); !ok {
				t.Errorf("the agent refuses what the server delivered (%v): %s", params, why)
			}
		})
	}
}
