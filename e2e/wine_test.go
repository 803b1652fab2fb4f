package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// wineRun finds the shared wine-run script, which runs a Go Windows binary under Wine.
func wineRun(t *testing.T) string {
	t.Helper()
	p := os.Getenv("WCMS_WINE_RUN")
	if p == "none" {
		t.Skip("WCMS_WINE_RUN=none: Wine is not available here")
	}
	if p == "" {
		p = filepath.Join(root(t), "..", "shared", "tools", "wine-run")
	}
	if _, err := os.Stat(p); err != nil {
		t.Skipf("no wine-run at %s (set WCMS_WINE_RUN to its path): %v", p, err)
	}
	return p
}

// winPath is a Linux path as Wine's Z: drive shows it.
func winPath(p string) string { return `Z:` + strings.ReplaceAll(p, "/", `\`) }

// TestWindowsAgentUnderWine runs the Windows build for real: registration with the Windows
// collectors, heartbeats, an execute through cmd /C with its output and exit code, and the
// service install and uninstall as far as Wine goes (it cannot start services for real).
func TestWindowsAgentUnderWine(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the Windows build under Wine")
	}
	wine := wineRun(t)
	srv := startServer(t)
	exe := build(t, "./cmd/wcms-agent", "wcms-agent.exe", "windows", "0.9.0")
	dir := t.TempDir()
	data := winPath(filepath.Join(dir, "data"))
	t.Cleanup(func() { exec.Command("wineserver", "-k").Run() })

	start(t, filepath.Join(dir, "agent.log"), nil, wine, exe, "run", "-server", srv.URL, "-pin", srv.pin(), "-data", data)
	var pc map[string]any
	waitFor(t, "the Windows agent online", 90*time.Second, func() bool {
		pcs := srv.pcs()
		if len(pcs) == 1 {
			pc = pcs[0]
		}
		return pc != nil && pc["is_online"] == true && pc["cpu_usage"] != nil
	})
	id := pc["id"].(float64)
	detail := srv.api("GET", "/api/admin/pc/"+itoa(id), nil)["pc"].(map[string]any)
	t.Logf("Windows collectors under Wine: %v", detail)
	specs := detail["specs"].(map[string]any)
	if detail["ip_address"] != "127.0.0.1" || detail["current_user"] == nil {
		t.Errorf("ip_address %v, current_user %v: want the loopback route and the console user", detail["ip_address"], detail["current_user"])
	}
	if !strings.Contains(specs["os_edition"].(string), "Windows") {
		t.Errorf("os_edition %v: want a Windows edition", specs["os_edition"])
	}
	hasC := false
	for _, d := range detail["disks"].([]any) {
		hasC = hasC || d.(map[string]any)["mount"] == `C:\`
	}
	if !hasC {
		t.Errorf("disks %v: want C:\\", detail["disks"])
	}

	c := srv.waitCommand(srv.command(id, "execute", map[string]any{"command": "echo hello-from-cmd & ver"}), 60*time.Second)
	if c["status"] != "completed" || !strings.Contains(c["output"].(string), "hello-from-cmd") || c["exit_code"] != 0.0 {
		t.Errorf("cmd /C echo: %v", c)
	}
	c = srv.waitCommand(srv.command(id, "execute", map[string]any{"command": "exit /b 3"}), 60*time.Second)
	if c["status"] != "error" || c["exit_code"] != 3.0 {
		t.Errorf("cmd /C exit /b 3: %v, want status error with exit code 3", c)
	}

	// Service install and uninstall (Wine cannot start a service, so `install` ends with the
	// start failing; the service must exist all the same, then go away). The agent above holds
	// this machine's identity, so the service enrols as another PC (-machine-id), as a second
	// agent on one host does; under the same identity it would wait for an operator's approval.
	svcData := winPath(filepath.Join(dir, "svc-data"))
	out, err := exec.Command(wine, exe, "install", "-server", srv.URL, "-pin", srv.pin(), "-data", svcData,
		"-machine-id", "WINE-SVC-1").CombinedOutput()
	t.Logf("install under Wine: %v\n%s", err, out)
	if !strings.Contains(string(out), "registered with") {
		t.Fatalf("install did not register: %s", out)
	}
	out, _ = exec.Command(wine, exe, "status", "-data", svcData).CombinedOutput()
	if strings.Contains(string(out), "not installed") || !strings.Contains(string(out), "WCMS-Agent") {
		t.Errorf("status after install: %s", out)
	}
	out, err = exec.Command(wine, exe, "uninstall", "-data", svcData).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "removed") {
		t.Errorf("uninstall: %v\n%s", err, out)
	}
	out, _ = exec.Command(wine, exe, "status", "-data", svcData).CombinedOutput()
	if !strings.Contains(string(out), "not installed") {
		t.Errorf("status after uninstall: %s", out)
	}
}
