package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseConfig(t *testing.T) {
	env := map[string]string{"WCMS_ADDR": ":6060", "WCMS_LEGACY_CLIENTS": "false", "WCMS_OFFLINE_AFTER": "45s", "WCMS_ADMIN_PASSWORD": "pw"}
	c, err := parseConfig([]string{"-db", "/tmp/x.db"}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":6060" || c.HTTP.LegacyClients || c.Fleet.OfflineAfter != 45*time.Second || c.DB != "/tmp/x.db" || c.AdminPassword != "pw" ||
		c.AgentDir != "bin" || c.Fleet.RoomGrace != 10*time.Second || c.Fleet.StateEvery != 30*time.Second ||
		c.Fleet.KeepMinutes != 14*24*time.Hour || c.Fleet.KeepHours != 400*24*time.Hour {
		t.Fatalf("%+v", c)
	}
	for flag, want := range map[string]time.Duration{"0": 0, "2s": 2 * time.Second} {
		if c, err := parseConfig([]string{"-room-grace", flag}, func(string) string { return "" }); err != nil || c.Fleet.RoomGrace != want {
			t.Errorf("-room-grace %s: %v %v", flag, c.Fleet.RoomGrace, err)
		}
	}
	if c.Fleet.WakeLimit != 5*time.Minute || c.Fleet.Location != time.Local {
		t.Errorf("wake limit and time zone by default: %v %v", c.Fleet.WakeLimit, c.Fleet.Location)
	}
	if c, err := parseConfig([]string{"-timezone", "Asia/Seoul", "-wake-limit", "3m"}, func(string) string { return "" }); err != nil ||
		c.Fleet.Location.String() != "Asia/Seoul" || c.Fleet.WakeLimit != 3*time.Minute {
		t.Errorf("-timezone Asia/Seoul -wake-limit 3m: %v %v %v", c.Fleet.Location, c.Fleet.WakeLimit, err)
	}
	for _, bad := range [][]string{{"-timezone", "Seoul"}, {"-wake-limit", "5s"}, {"-wake-limit", "2h"}} {
		if _, err := parseConfig(bad, func(string) string { return "" }); err == nil {
			t.Errorf("%v taken", bad)
		}
	}
	if c.HTTP.SlowRequest != 500*time.Millisecond {
		t.Errorf("-slow-request by default: %v", c.HTTP.SlowRequest)
	}
	env["WCMS_SLOW_REQUEST"] = "2s"
	if c, err := parseConfig(nil, func(k string) string { return env[k] }); err != nil || c.HTTP.SlowRequest != 2*time.Second {
		t.Errorf("WCMS_SLOW_REQUEST=2s: %v %v", c.HTTP.SlowRequest, err)
	}
	delete(env, "WCMS_SLOW_REQUEST")
	if c, err := parseConfig([]string{"-db", "postgres://wcms@db.lab/wcms", "-data-dir", "/srv/wcms"}, func(string) string { return "" }); err != nil ||
		c.DB != "postgres://wcms@db.lab/wcms" || c.DataDir != "/srv/wcms" {
		t.Fatalf("a PostgreSQL database and its data folder: %+v %v", c, err)
	}
	env["WCMS_AGENT_DIR"], env["WCMS_PUBLIC_URL"] = "/srv/agents", "https://wcms.lab.example:8443/"
	c, err = parseConfig(nil, func(k string) string { return env[k] })
	if err != nil || c.AgentDir != "/srv/agents" || c.HTTP.PublicURL != "https://wcms.lab.example:8443/" {
		t.Fatalf("agent dir and public URL from the environment: %+v %v", c, err)
	}
	// The published clients' tokenless mode is a switch; a new install starts without it.
	if c, err := parseConfig(nil, func(string) string { return "" }); err != nil || c.HTTP.LegacyClients {
		t.Fatalf("legacy clients by default: %v %v", c.HTTP.LegacyClients, err)
	}
	if c, err := parseConfig([]string{"-legacy-clients"}, func(string) string { return "" }); err != nil || !c.HTTP.LegacyClients {
		t.Fatalf("-legacy-clients: %v %v", c.HTTP.LegacyClients, err)
	}
	for _, ok := range []string{"127.0.0.1:6060", "[::1]:6060", "localhost:6060"} {
		if c, err := parseConfig([]string{"-debug-addr", ok}, func(string) string { return "" }); err != nil || c.DebugAddr != ok {
			t.Errorf("-debug-addr %s: %+v %v", ok, c, err)
		}
	}
	c, err = parseConfig([]string{"-addr", ":7070"}, func(k string) string { return env[k] })
	if err != nil || c.Addr != ":7070" {
		t.Fatalf("a flag wins over its environment twin: %+v %v", c, err)
	}
	for _, bad := range []map[string]string{{"WCMS_LEGACY_CLIENTS": "maybe"}, {"WCMS_OFFLINE_AFTER": "soon"}, {"WCMS_OFFLINE_AFTER": "1s"},
		{"WCMS_ROOM_GRACE": "-1s"}, {"WCMS_ROOM_GRACE": "1h"}, {"WCMS_ROOM_GRACE": "soon"}, {"WCMS_SLOW_REQUEST": "0s"}, {"WCMS_SLOW_REQUEST": "soon"},
		{"WCMS_PUBLIC_URL": "ftp://wcms.lab"}, {"WCMS_PUBLIC_URL": "http://wcms.lab/'$(reboot)'"}, {"WCMS_PUBLIC_URL": "wcms.lab:5050"},
		{"WCMS_STATE_EVERY": "0s"}, {"WCMS_STATE_EVERY": "1h"}, {"WCMS_KEEP_MINUTES_DAYS": "0"}, {"WCMS_KEEP_MINUTES_DAYS": "two weeks"},
		{"WCMS_KEEP_MINUTES_DAYS": "30", "WCMS_KEEP_HOURS_DAYS": "7"},
		{"WCMS_DEBUG_ADDR": ":6060"}, {"WCMS_DEBUG_ADDR": "0.0.0.0:6060"}, {"WCMS_DEBUG_ADDR": "10.1.2.3:6060"}, {"WCMS_DEBUG_ADDR": "127.0.0.1"}} {
		if _, err := parseConfig(nil, func(k string) string { return bad[k] }); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

// TestServerProcess runs the real binary: first start makes the admin password file, a light
// heartbeat acknowledged just before SIGTERM is in the database after the restart, and the
// registration survives. An agent build in -agent-dir is served after the first start and
// registered only once.
func TestServerProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "wcms-server")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	db := filepath.Join(dir, "data", "wcms.db")
	addr := freeAddr(t)
	base := "http://" + addr
	agents := filepath.Join(dir, "agents")
	if out, err := exec.Command("go", "build", "-o", filepath.Join(agents, "wcms-agent"), "-ldflags", "-X main.version=4.5.6",
		"./handlers/testdata/wcms-agent").CombinedOutput(); err != nil {
		t.Fatalf("build the stand-in agent: %v\n%s", err, out)
	}
	t.Setenv("WCMS_AGENT_DIR", agents)
	debugAddr := freeAddr(t)
	t.Setenv("WCMS_DEBUG_ADDR", debugAddr)

	stop := startServer(t, bin, addr, db)
	pwFile := filepath.Join(dir, "data", "initial-admin-password")
	st, err := os.Stat(pwFile)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("initial password file: %v %v", st, err)
	}
	pw, _ := os.ReadFile(pwFile)
	client, csrf := login(t, base, strings.TrimSpace(string(pw)))
	// The generated password must be changed before anything else; its file goes then.
	const chosen = "chosen admin password"
	post(t, client, base+"/api/admin/password", fmt.Sprintf(`{"current_password":%q,"new_password":%q}`,
		strings.TrimSpace(string(pw)), chosen), "X-CSRF-Token", csrf)
	if _, err := os.Stat(pwFile); !os.IsNotExist(err) {
		t.Fatalf("%s is still there after the password was changed: %v", pwFile, err)
	}
	pin := post(t, client, base+"/api/admin/registration-token", `{"usage_type":"single"}`, "X-CSRF-Token", csrf)["token"].(string)
	reg := post(t, http.DefaultClient, base+"/api/client/register",
		fmt.Sprintf(`{"machine_id":"PROC-1","pin":%q,"hostname":"LAB-1","mac_address":"00:00:5E:00:53:01"}`, pin))
	pcID := int64(reg["pc_id"].(float64))
	// The PIN is kept only as a hash keyed by pin.key, a file beside the database.
	if key, err := os.Stat(filepath.Join(dir, "data", "pin.key")); err != nil || key.Mode().Perm() != 0o600 || key.Size() != 32 {
		t.Fatalf("pin.key: %v %v", key, err)
	}
	for _, f := range []string{db, db + "-wal"} {
		if raw, err := os.ReadFile(f); err == nil && bytes.Contains(raw, []byte(pin)) {
			t.Fatalf("%s holds the PIN %s in clear", f, pin)
		}
	}
	post(t, http.DefaultClient, base+"/api/client/commands",
		`{"machine_id":"PROC-1","heartbeat":{"cpu_usage":61.5,"ram_usage_percent":40,"ip_address":"10.9.8.7"}}`,
		"Authorization", "Bearer "+reg["agent_token"].(string))
	if v := get(t, http.DefaultClient, base+"/api/client/version?os=linux&arch="+runtime.GOARCH); v["version"] != "4.5.6" {
		t.Fatalf("the -agent-dir build is not served: %v", v)
	}
	if res, err := http.Get("http://" + debugAddr + "/debug/pprof/goroutine?debug=1"); err != nil || res.StatusCode != 200 {
		t.Fatalf("profiles on -debug-addr: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	if res, err := http.Get(base + "/debug/pprof/"); err != nil || res.StatusCode == 200 {
		t.Fatalf("profiles must not be on the public address: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	stop() // SIGTERM right after the acknowledged poll: the batched state must be flushed

	stop = startServer(t, bin, addr, db)
	defer stop()
	client, csrf = login(t, base, chosen)
	if builds, _ := get(t, client, base+"/api/admin/agent-builds")["builds"].([]any); len(builds) != 1 {
		t.Fatalf("after a second start: %d builds, want the one", len(builds))
	}
	res, err := client.Get(fmt.Sprintf("%s/api/admin/pc/%d", base, pcID))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var pc struct {
		PC struct {
			Hostname string   `json:"hostname"`
			CPUUsage *float64 `json:"cpu_usage"`
			IP       string   `json:"ip_address"`
		} `json:"pc"`
	}
	if err := json.NewDecoder(res.Body).Decode(&pc); err != nil {
		t.Fatal(err)
	}
	if pc.PC.Hostname != "LAB-1" || pc.PC.CPUUsage == nil || *pc.PC.CPUUsage != 61.5 || pc.PC.IP != "10.9.8.7" {
		t.Fatalf("after restart: %+v", pc.PC)
	}
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startServer starts the binary and waits for its "listening" log line; stop sends SIGTERM and
// waits for a clean exit.
func startServer(t *testing.T, bin, addr, db string) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	cmd := exec.CommandContext(ctx, bin, "-addr", addr, "-db", db)
	cmd.Env = append(os.Environ(), "WCMS_ADMIN_PASSWORD=")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), `"msg":"listening"`) {
				close(ready)
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatalf("server did not start:\n%s", logs.String())
	}
	return func() {
		cmd.Process.Signal(syscall.SIGTERM)
		err := cmd.Wait()
		cancel()
		if err != nil {
			t.Fatalf("server exit: %v", err)
		}
	}
}

func login(t *testing.T, base, password string) (*http.Client, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	res, err := c.PostForm(base+"/login", url.Values{"username": {"admin"}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	u, _ := url.Parse(base)
	for _, ck := range jar.Cookies(u) {
		if ck.Name == "csrf_token" {
			return c, ck.Value
		}
	}
	t.Fatalf("login failed: %d", res.StatusCode)
	return nil, ""
}

func get(t *testing.T, c *http.Client, u string) map[string]any {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(res.Body).Decode(&m); err != nil || res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", u, res.StatusCode, err)
	}
	return m
}

// post sends body with header (name, value pairs) and wants 200.
func post(t *testing.T, c *http.Client, u, body string, header ...string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("POST %s: %d %s", u, res.StatusCode, raw)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
