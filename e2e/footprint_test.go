package e2e

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestAgentFootprint is a load run, not part of `make test`: `make footprint` runs it. It polls
// a real server for 60 s and prints the agent's resident memory, CPU and binary sizes, failing
// when they exceed the targets (20 MB RSS, 0.5 % of one core).
func TestAgentFootprint(t *testing.T) {
	if os.Getenv("WCMS_FOOTPRINT") == "" {
		t.Skip("a 60 s measurement; run it with `make footprint`")
	}
	const window = 60 * time.Second
	srv := startServer(t)
	bin := filepath.Join(t.TempDir(), "wcms-agent")
	exe := bin + ".exe"
	for _, b := range []struct{ out, goos string }{{bin, "linux"}, {exe, "windows"}} {
		cmd := exec.Command("go", "build", "-ldflags", "-s -w -X main.version=0.9.0", "-o", b.out, "./cmd/wcms-agent")
		cmd.Dir = root(t)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+b.goos, "GOARCH=amd64")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", b.goos, err, out)
		}
	}
	dir := t.TempDir()
	ag := start(t, filepath.Join(dir, "agent.log"), nil, bin, "run", "-server", srv.URL, "-pin", srv.pin(), "-data", filepath.Join(dir, "data"))
	waitFor(t, "the PC online", 20*time.Second, func() bool {
		pcs := srv.pcs()
		return len(pcs) == 1 && pcs[0]["is_online"] == true
	})
	time.Sleep(5 * time.Second) // past the first (full) heartbeat and the update check
	pid := ag.cmd.Process.Pid
	cpu0, began := cpuTicks(t, pid), time.Now()
	var maxRSS, sumRSS, samples int64
	for time.Since(began) < window {
		time.Sleep(time.Second)
		rss := statusKB(t, pid, "VmRSS")
		maxRSS = max(maxRSS, rss)
		sumRSS += rss
		samples++
	}
	ticks := cpuTicks(t, pid) - cpu0
	elapsed := time.Since(began)
	cpuPct := float64(ticks) / 100 / elapsed.Seconds() * 100 // USER_HZ is 100 on Linux
	size := func(p string) float64 {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return float64(fi.Size()) / (1 << 20)
	}
	t.Logf("agent over %v of 2 s polling: CPU %.3f %% of one core (%d ticks), RSS avg %.1f MB, max %.1f MB, peak (VmHWM) %.1f MB",
		elapsed.Round(time.Second), cpuPct, ticks, float64(sumRSS)/float64(samples)/1024, float64(maxRSS)/1024,
		float64(statusKB(t, pid, "VmHWM"))/1024)
	t.Logf("binary sizes (-s -w, CGO off): linux/amd64 %.1f MB, windows/amd64 %.1f MB", size(bin), size(exe))
	if maxRSS > 20*1024 || cpuPct > 0.5 {
		t.Errorf("over the targets (20 MB RSS, 0.5 %% of one core)")
	}
}

// cpuTicks is utime+stime of pid in clock ticks.
func cpuTicks(t *testing.T, pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the parenthesised command name; utime and stime are the 14th and 15th.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return u + s
}

// statusKB reads a kB field of /proc/pid/status.
func statusKB(t *testing.T, pid int, field string) int64 {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return n
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}
