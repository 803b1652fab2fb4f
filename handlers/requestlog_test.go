package handlers_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wcms-lab/wcms/fleet"
	"github.com/wcms-lab/wcms/handlers"
)

// logLevelOf waits for the request log's line of the request and returns its level. The server
// logs a request after answering it, so the line may come a moment after the answer.
func (ts *testServer) logLevelOf(method, path string, status int) string {
	ts.t.Helper()
	want := fmt.Sprintf("msg=request method=%s path=%s status=%d ", method, path, status)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		for _, line := range strings.Split(ts.logs.String(), "\n") {
			if strings.Contains(line, want) {
				level, _, _ := strings.Cut(line[strings.Index(line, "level=")+len("level="):], " ")
				return level
			}
		}
	}
	ts.t.Fatalf("no log line %q in\n%s", want, ts.logs.String())
	return ""
}

// TestRequestLogLevels: an agent's success is logged at debug, and not held as slow for the
// time its long-poll waited; refusals are at warn for every audience; pages at info.
func TestRequestLogLevels(t *testing.T) {
	ts := newTestServer(t, func(c *handlers.Config, _ *fleet.Config) { c.SlowRequest = 300 * time.Millisecond })
	ts.logLevel.Set(slog.LevelDebug)
	a := ts.admin()
	pin := ts.pin(a, "multi")
	quick, held := ts.register(pin, "LOG-QUICK"), ts.register(pin, "LOG-HELD")
	for _, c := range []struct {
		name, method, path string
		ag                 *agent
		body               any
		status             int
		level              string
	}{
		{"agent success", "POST", "/api/client/commands", quick, map[string]any{"machine_id": quick.MachineID}, 200, "DEBUG"},
		{"agent poll held 0.5 s", "POST", "/api/client/command", held, map[string]any{"machine_id": held.MachineID, "wait": 0.5}, 200, "DEBUG"},
		{"agent refusal", "POST", "/api/client/heartbeat", quick, map[string]any{"machine_id": quick.MachineID}, 400, "WARN"},
		{"page", "GET", "/login", quick, nil, 200, "INFO"},
		{"page refusal", "GET", "/no-such-page", quick, nil, 404, "WARN"},
	} {
		t.Run(c.name, func(t *testing.T) {
			began := time.Now()
			ts.do(nil, c.method, c.path, c.body, "Authorization", "Bearer "+c.ag.Token).must(t, c.status)
			if c.name == "agent poll held 0.5 s" && time.Since(began) < 500*time.Millisecond {
				t.Fatalf("the poll was answered after %v, not held", time.Since(began))
			}
			if got := ts.logLevelOf(c.method, c.path, c.status); got != c.level {
				t.Errorf("logged at %s, want %s", got, c.level)
			}
		})
	}
}

// TestAgentSuccessNotLoggedAtInfo: at the default level an agent's poll leaves no line, while a
// page request on the same connection, answered after it, does.
func TestAgentSuccessNotLoggedAtInfo(t *testing.T) {
	ts := newTestServer(t)
	ag := ts.register(ts.pin(ts.admin(), "single"), "LOG-INFO")
	// One connection: the server reads the page request only once the poll's log call is done.
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}
	ts.do(client, "POST", "/api/client/commands", map[string]any{"machine_id": ag.MachineID}, "Authorization", "Bearer "+ag.Token).must(t, 200)
	ts.do(client, "GET", "/login", nil).must(t, 200)
	ts.logLevelOf("GET", "/login", 200)
	if logs := ts.logs.String(); strings.Contains(logs, "path=/api/client/commands") {
		t.Errorf("a poll's success logged at info:\n%s", logs)
	}
}

// TestSlowAgentRequestAtWarn: past -slow-request, even an agent's success is a warning.
func TestSlowAgentRequestAtWarn(t *testing.T) {
	ts := newTestServer(t, func(c *handlers.Config, _ *fleet.Config) { c.SlowRequest = time.Nanosecond })
	ag := ts.register(ts.pin(ts.admin(), "single"), "LOG-SLOW")
	ag.poll(nil).must(t, 200)
	if got := ts.logLevelOf("POST", "/api/client/commands", 200); got != "WARN" {
		t.Errorf("a slow poll logged at %s, want WARN", got)
	}
}
