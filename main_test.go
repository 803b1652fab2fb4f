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
	if c.Addr != ":6060" || c.LegacyClients || c.OfflineAfter != 45*time.Second || c.DB != "/tmp/x.db" || c.AdminPassword != "pw" {
		t.Fatalf("%+v", c)
	}
	c, err = parseConfig([]string{"-addr", ":7070"}, func(k string) string { return env[k] })
	if err != nil || c.Addr != ":7070" {
		t.Fatalf("a flag wins over its environment twin: %+v %v", c, err)
	}
	for _, bad := range []map[string]string{{"WCMS_LEGACY_CLIENTS": "maybe"}, {"WCMS_OFFLINE_AFTER": "soon"}, {"WCMS_OFFLINE_AFTER": "1s"}} {
		if _, err := parseConfig(nil, func(k string) string { return bad[k] }); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

// TestServerProcess runs the real binary: first start makes the admin password file, a light
// heartbeat acknowledged just before SIGTERM is in the database after the restart, and the
// registration survives.
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

	stop := startServer(t, bin, addr, db)
	pwFile := filepath.Join(dir, "data", "initial-admin-password")
	st, err := os.Stat(pwFile)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("initial password file: %v %v", st, err)
	}
	pw, _ := os.ReadFile(pwFile)
	client, csrf := login(t, base, strings.TrimSpace(string(pw)))
	pin := post(t, client, base+"/api/admin/registration-token", `{"usage_type":"single"}`, csrf)["token"].(string)
	reg := post(t, http.DefaultClient, base+"/api/client/register",
		fmt.Sprintf(`{"machine_id":"PROC-1","pin":%q,"hostname":"LAB-1","mac_address":"aa"}`, pin), "")
	pcID := int64(reg["pc_id"].(float64))
	post(t, http.DefaultClient, base+"/api/client/commands",
		`{"machine_id":"PROC-1","heartbeat":{"cpu_usage":61.5,"ram_usage_percent":40,"ip_address":"10.9.8.7"}}`, "")
	stop() // SIGTERM right after the acknowledged poll: the batched state must be flushed

	stop = startServer(t, bin, addr, db)
	defer stop()
	client, csrf = login(t, base, strings.TrimSpace(string(pw)))
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

func post(t *testing.T, c *http.Client, u, body, csrf string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if csrf != "" {
		req.Header.Set("X-CSRF-Token", csrf)
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
