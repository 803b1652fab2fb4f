package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestHistogramQuantiles(t *testing.T) {
	tests := []struct {
		name     string
		samples  []time.Duration
		q        float64
		want     time.Duration
		relError float64
	}{
		{"exact below 512 µs", []time.Duration{100 * time.Microsecond, 200 * time.Microsecond, 300 * time.Microsecond}, 0.5, 200 * time.Microsecond, 0},
		{"p99 of 1..1000 ms", ramp(1000, time.Millisecond), 0.99, 990 * time.Millisecond, 0.004},
		{"p50 of 1..1000 ms", ramp(1000, time.Millisecond), 0.5, 500 * time.Millisecond, 0.004},
		{"max of one sample", []time.Duration{42 * time.Second}, 1, 42 * time.Second, 0.004},
		{"negative counts as zero", []time.Duration{-time.Second}, 0.5, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h histogram
			for _, d := range tt.samples {
				h.record(d)
			}
			got := h.quantile(tt.q)
			if diff := math.Abs(float64(got - tt.want)); diff > tt.relError*float64(tt.want) {
				t.Errorf("quantile(%v) = %v, want %v (±%.1f%%)", tt.q, got, tt.want, tt.relError*100)
			}
		})
	}
}

func ramp(n int, step time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(i+1) * step
	}
	return out
}

func TestBucketsRoundTrip(t *testing.T) {
	for _, us := range []uint64{0, 1, 511, 512, 513, 1023, 1024, 99_999, 1 << 30} {
		i := bucketOf(us)
		if lo := bucketFloor(i); lo > us || bucketFloor(i+1) <= us {
			t.Errorf("%d µs in bucket %d [%d, %d)", us, i, lo, bucketFloor(i+1))
		}
	}
}

// procCase is one input to a /proc parser.
type procCase struct {
	name    string
	in      []byte
	want    int64
	wantErr bool
}

func testProcParser(t *testing.T, name string, parse func([]byte) (int64, error), tests []procCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parse(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("%s = %d, %v; want %d, error %v", name, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestParseCPUTicks(t *testing.T) {
	busy, err := os.ReadFile("testdata/proc-stat-busy.txt")
	if err != nil {
		t.Fatal(err)
	}
	testProcParser(t, "parseCPUTicks", parseCPUTicks, []procCase{
		{"name with spaces and parentheses", busy, 24, false},
		{"plain", []byte("7 (wcms-server) S 1 7 7 0 -1 4194560 100 0 0 0 1500 320 0 0 20 0 9 0 100 0 0"), 1820, false},
		{"no name", []byte("7 wcms S 1"), 0, true},
		{"cut short", []byte("7 (wcms) S 1 7 7 0"), 0, true},
		{"not a number", []byte("7 (wcms) S 1 7 7 0 -1 4194560 100 0 0 0 x 320 0"), 0, true},
	})
}

func TestParsePeakRSS(t *testing.T) {
	status, err := os.ReadFile("testdata/proc-status.txt")
	if err != nil {
		t.Fatal(err)
	}
	testProcParser(t, "parsePeakRSS", parsePeakRSS, []procCase{
		{"captured", status, 1792 * 1024, false},
		{"no VmHWM", []byte("Name:\tx\nVmRSS:\t 10 kB\n"), 0, true},
		{"other unit", []byte("VmHWM:\t 10 MB\n"), 0, true},
	})
}

func TestTileCPU(t *testing.T) {
	tests := []struct {
		in     string
		want   int
		wantOK bool
	}{
		{`data: <span class="w-9" data-testid="tile-cpu">78%</span>`, 78, true},
		{`data: <span data-testid="tile-cpu">100%</span>`, 100, true},
		{`data: <span data-testid="tile-cpu">–</span>`, 0, false},
		{`data: <span data-testid="tile-ram">40%</span>`, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := tileCPU([]byte(tt.in))
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("tileCPU = %d, %v; want %d, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// The captured stream (a real server's) holds PC 1's tile twice, first with no CPU figure, then
// showing 73 %, and PC 2's at 12 %.
func TestReadStreamSeesMarkedTile(t *testing.T) {
	stream, err := os.ReadFile("testdata/stream.txt")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		pc       int64
		value    float64
		wantSeen bool
	}{
		{"the marked figure", 1, 73, true},
		{"another figure", 1, 74, false},
		{"another PC", 2, 73, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &agent{pcID: tt.pc}
			m := &marker{value: tt.value, seen: make([]atomic.Int64, 2)}
			a.marker.Store(m)
			g := &loadgen{byPC: map[int64]*agent{tt.pc: a}}
			if err := g.readStream(bytes.NewReader(stream), 1); err == nil {
				t.Fatal("readStream returned no error at the end of the stream")
			}
			if seen := m.seen[1].Load() != 0; seen != tt.wantSeen || m.seen[0].Load() != 0 {
				t.Errorf("seen by subscriber 1: %v, want %v (subscriber 0: %d)", seen, tt.wantSeen, m.seen[0].Load())
			}
		})
	}
}

func TestCheckLoopback(t *testing.T) {
	tests := []struct {
		url    string
		wantOK bool
	}{
		{"http://127.0.0.1:5050", true},
		{"http://localhost:5050", true},
		{"http://[::1]:5050", true},
		{"http://10.0.0.5:5050", false},
		{"http://wcms.example.org", false},
		{"https://127.0.0.1:5050", false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			if err := checkLoopback(tt.url); (err == nil) != tt.wantOK {
				t.Errorf("checkLoopback(%q) = %v, want ok %v", tt.url, err, tt.wantOK)
			}
		})
	}
}

// A short real run against the real server binary: no errors, every latency measured, and the
// agents offer the rate they should.
func TestLoadAgainstRealServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and loads the real server")
	}
	bin := filepath.Join(t.TempDir(), "wcms-server")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = filepath.Join("..", "..")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// Every subscriber watching every PC; each watching one of three rooms of 20 (the last room
	// has 10; one room has two watchers); the agents sharing 8 connections.
	for name, args := range map[string][]string{"all PCs": nil, "rooms": {"-room-size", "20"}, "shared connections": {"-conns", "8"}} {
		t.Run(name, func(t *testing.T) { loadOnce(t, bin, args...) })
	}
}

func loadOnce(t *testing.T, bin string, args ...string) {
	cfg, err := parseConfig(append([]string{"-spawn", bin, "-agents", "50", "-longpoll-agents", "5", "-subscribers", "4",
		"-duration", "5s", "-warmup", "1s"}, args...), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	var progress bytes.Buffer
	rep, err := run(context.Background(), cfg, &progress)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, progress.String())
	}
	var table strings.Builder
	if err := rep.writeTable(&table); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", table.String())
	if rep.ErrorTotal != 0 {
		t.Errorf("errors: %v", rep.Errors)
	}
	if rep.HeartbeatToSSE.Count == 0 || rep.CommandDelivery.Count == 0 || rep.Poll.Count == 0 {
		t.Errorf("samples: heartbeat→SSE %d, command %d, poll %d; want all above zero",
			rep.HeartbeatToSSE.Count, rep.CommandDelivery.Count, rep.Poll.Count)
	}
	if r := rep.PollsAchieved / rep.PollsOffered; r < 0.7 || r > 1.3 {
		t.Errorf("polls/s %.1f achieved of %.1f offered", rep.PollsAchieved, rep.PollsOffered)
	}
	if rep.ServerCPUCores <= 0 || rep.ServerPeakRSSMB <= 0 || rep.KBPerAgentHour <= 0 {
		t.Errorf("server CPU %.3f cores, RSS %.1f MB, %.0f KB/agent-hour: want all measured",
			rep.ServerCPUCores, rep.ServerPeakRSSMB, rep.KBPerAgentHour)
	}
}

func TestPythonJSON(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{map[string]any{"a": 1, "b": []int{1, 2}}, `{"a": 1, "b": [1, 2]}`},
		{map[string]string{"s": `x:,"y\`}, `{"s": "x:,\"y\\"}`},
	}
	for _, tt := range tests {
		if got := string(pythonJSON(tt.in)); got != tt.want {
			t.Errorf("pythonJSON(%v) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// Each pattern's requests are the ones its agent sends: the poll, and the published client's
// separate full heartbeat.
func TestPatternRequests(t *testing.T) {
	a := &agent{machineID: patternAgent.machineID("LOADGEN-1"), instanceID: instanceID("LOADGEN-1"), token: "tok", ip: "10.0.0.1", ram: 40}
	tests := []struct {
		p         pattern
		full      bool
		paths     []string
		head      []string // in the first request's headers
		body      []string // in the first request's body
		notInHead string
	}{
		{patternSteady, false, []string{"/api/client/commands"}, []string{"Authorization: Bearer tok"}, []string{`"full_update":false`}, "User-Agent"},
		{patternAgent, false, []string{"/api/client/commands"}, []string{"User-Agent: wcms-agent/", "Authorization: Bearer tok"},
			[]string{`"heartbeat":{"cpu_usage":5,`, `"wait":2`, `"instance_id":"` + a.instanceID, `"machine_id":"` + a.machineID}, "Accept"},
		{patternPublished, false, []string{"/api/client/commands"}, []string{"python-requests"}, []string{`"heartbeat": {"cpu_usage": 5, "ram_usage_percent": 40, "ip_address": "10.0.0.1"}`}, "Authorization"},
		{patternPublished, true, []string{"/api/client/commands", "/api/client/heartbeat"}, []string{"python-requests"}, []string{`"heartbeat": {"cpu_usage"`}, "Authorization"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s full %v", tt.p, tt.full), func(t *testing.T) {
			reqs := tt.p.requests(a, 5, tt.full)
			var paths []string
			for _, r := range reqs {
				paths = append(paths, r.path)
			}
			if !slices.Equal(paths, tt.paths) {
				t.Fatalf("paths %v, want %v", paths, tt.paths)
			}
			for _, h := range tt.head {
				if !strings.Contains(reqs[0].head, h) {
					t.Errorf("headers %q lack %q", reqs[0].head, h)
				}
			}
			if strings.Contains(reqs[0].head, tt.notInHead) {
				t.Errorf("headers %q hold %q", reqs[0].head, tt.notInHead)
			}
			for _, b := range tt.body {
				if !strings.Contains(string(reqs[0].body), b) {
					t.Errorf("body %s lacks %s", reqs[0].body, b)
				}
			}
		})
	}
}
