package collect

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/shirou/gopsutil/v4/cpu"
)

var (
	upperHex64 = regexp.MustCompile(`^[0-9A-F]{64}$`)
	macFormat  = regexp.MustCompile(`^([0-9A-F]{2}:){5}[0-9A-F]{2}$`)
)

// newLocal returns a collector whose server is a real local HTTP server, as in a lab whose
// server runs on the same PC.
func newLocal(t testing.TB) *Collector {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, nil)
	if err != nil {
		t.Fatalf("New(%q): %v", srv.URL, err)
	}
	return c
}

func TestNew(t *testing.T) {
	tests := []struct {
		url    string
		server string // "" when New must fail
	}{
		{"http://10.0.0.5:5050", "10.0.0.5:5050"},
		{"http://wcms.lab.local", "wcms.lab.local:80"},
		{"https://wcms.lab.local/", "wcms.lab.local:443"},
		{"http://[fd00::5]:5050/api", "[fd00::5]:5050"},
		{"10.0.0.5:5050", ""},
		{"localhost:5050", ""},
		{"http://", ""},
		{"://nonsense", ""},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			c, err := New(tt.url, nil)
			if tt.server == "" {
				if err == nil {
					t.Fatalf("New(%q) = server %q, want an error", tt.url, c.server)
				}
				return
			}
			if err != nil {
				t.Fatalf("New(%q): %v", tt.url, err)
			}
			if c.server != tt.server {
				t.Errorf("server = %q, want %q", c.server, tt.server)
			}
		})
	}
}

func TestRegistration(t *testing.T) {
	ctx := t.Context()
	c1, c2 := newLocal(t), newLocal(t)
	first, err := c1.Registration(ctx)
	if err != nil {
		t.Fatalf("Registration: %v", err)
	}
	t.Logf("registration: %+v", first)
	again, err := c1.Registration(ctx)
	if err != nil {
		t.Fatalf("second Registration: %v", err)
	}
	other, err := c2.Registration(ctx)
	if err != nil {
		t.Fatalf("Registration by another collector: %v", err)
	}

	if first.MachineID != "" || first.InstanceID != "" || first.PIN != "" {
		t.Errorf("machine id, instance id, pin = %q, %q, %q; want them left to the agent", first.MachineID, first.InstanceID, first.PIN)
	}
	if again.Hostname != first.Hostname || other.Hostname != first.Hostname {
		t.Errorf("hostnames differ: %q, %q, %q", first.Hostname, again.Hostname, other.Hostname)
	}
	if want, _ := os.Hostname(); first.Hostname != want {
		t.Errorf("hostname = %q, want %q", first.Hostname, want)
	}
	checkLocalIP(t, &first.IPAddress)
	if first.MACAddress != "" && !macFormat.MatchString(first.MACAddress) {
		t.Errorf("mac %q is not AA:BB:CC:DD:EE:FF", first.MACAddress)
	}
	if first.CPUThreads < 1 || first.CPUCores < 1 || first.CPUCores > first.CPUThreads {
		t.Errorf("cores/threads = %d/%d, want 1 <= cores <= threads", first.CPUCores, first.CPUThreads)
	}
	if first.RAMTotal <= 0 {
		t.Errorf("ram total = %v GB", first.RAMTotal)
	}
	root, ok := first.DiskInfo[rootDisk]
	if !ok || root.TotalGB <= 0 || root.FSType == "" {
		t.Errorf("disk_info[%q] = %+v (present %v), want a size and a file system; all: %v", rootDisk, root, ok, first.DiskInfo)
	}
	if first.OSEdition == "" || first.OSVersion == "" {
		t.Errorf("os edition/version = %q/%q, want both", first.OSEdition, first.OSVersion)
	}
}

func TestLight(t *testing.T) {
	c := newLocal(t)
	for i := range 3 { // the first call measures since boot, the later ones since the last
		info := c.Light(t.Context())
		checkPercent(t, "cpu_usage", info.CPUUsage)
		checkPercent(t, "ram_usage_percent", info.RAMUsagePercent)
		checkLocalIP(t, info.IPAddress)
		if info.RAMUsed != nil || info.DiskUsage != nil || info.CurrentUser != nil || info.Uptime != nil || info.Processes != nil {
			t.Errorf("call %d: light heartbeat carries full fields: %+v", i, info)
		}
	}
}

func TestLightWithEndedContext(t *testing.T) {
	c := newLocal(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	info := c.Light(ctx)
	if info.CPUUsage != nil || info.RAMUsagePercent != nil || info.IPAddress != nil {
		t.Errorf("Light with an ended context = %+v, want every field nil", info)
	}
}

func TestFull(t *testing.T) {
	c := newLocal(t)
	info := c.Full(t.Context())
	checkPercent(t, "cpu_usage", info.CPUUsage)
	checkPercent(t, "ram_usage_percent", info.RAMUsagePercent)
	if info.RAMUsed == nil || *info.RAMUsed <= 0 {
		t.Errorf("ram_used = %v, want > 0 GB", info.RAMUsed)
	}
	if info.Uptime == nil || *info.Uptime <= 0 {
		t.Errorf("uptime = %v, want > 0 s", info.Uptime)
	}
	checkLocalIP(t, info.IPAddress)
	if info.CurrentUser != nil {
		t.Logf("current_user = %q", *info.CurrentUser)
	} else {
		t.Log("current_user unavailable")
	}

	root, ok := info.DiskUsage[rootDisk]
	if !ok || root.Percent < 0 || root.Percent > 100 || root.UsedGB+root.FreeGB <= 0 {
		t.Errorf("disk_usage[%q] = %+v (present %v); all: %v", rootDisk, root, ok, info.DiskUsage)
	}

	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	self := filepath.Base(exe)
	if !slices.Contains(info.Processes, self) {
		t.Errorf("processes lack this test binary %q: %v", self, info.Processes)
	}
	if !slices.IsSorted(info.Processes) || len(slices.Compact(slices.Clone(info.Processes))) != len(info.Processes) {
		t.Errorf("processes are not sorted and unique: %v", info.Processes)
	}
	checkProcessNames(t, info.Processes)
}

func TestBootTime(t *testing.T) {
	boot, err := newLocal(t).BootTime()
	if err != nil {
		t.Fatalf("BootTime: %v", err)
	}
	if !boot.Before(time.Now()) || boot.Before(time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("boot time %v is not between 1990 and now", boot)
	}
}

// checkLocalIP checks the address reported for a server on this PC.
func checkLocalIP(t *testing.T, ip *string) {
	t.Helper()
	if ip == nil || *ip != "127.0.0.1" {
		t.Errorf("ip_address = %v, want 127.0.0.1 for a local server", ip)
	}
}

func checkPercent(t *testing.T, name string, v *float64) {
	t.Helper()
	if v == nil || *v < 0 || *v > 100 {
		t.Errorf("%s = %v, want 0..100", name, v)
	}
}

func TestAttempt(t *testing.T) {
	tests := []struct {
		name    string
		get     func(ctx context.Context) (int, error)
		want    int
		wantErr string
	}{
		{"value", func(context.Context) (int, error) { return 7, nil }, 7, ""},
		{"error", func(context.Context) (int, error) { return 0, errors.New("boom") }, 0, "boom"},
		{"panic", func(context.Context) (int, error) { panic("broken parser") }, 0, "panic: broken parser"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := attempt(t.Context(), tt.get)
			if got != tt.want || (err == nil) != (tt.wantErr == "") || (err != nil && err.Error() != tt.wantErr) {
				t.Errorf("attempt = %v, %v; want %v, %q", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestAttemptGivesUpOnStuckSource(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	release := make(chan struct{})
	defer close(release)
	got, err := attempt(ctx, func(context.Context) (int, error) {
		cancel() // the deadline passes while the call hangs, ignoring its context
		<-release
		return 1, nil
	})
	if got != 0 || !errors.Is(err, context.Canceled) {
		t.Errorf("attempt = %v, %v; want 0, context.Canceled", got, err)
	}
}

func TestHashID(t *testing.T) {
	// Expected values from sha256sum, upper-cased.
	tests := []struct{ raw, want string }{
		{"5b3d6a5a8f1c4e2b9d7e0f1a2b3c4d5e", "93603938B97FE2C8C051AA756D6CA1B9198BE6B5A5918EA34CECC5A1725F5211"},
		{"c2b7a1e0-4d5f-4e8a-9b1c-0d2e3f4a5b6c", "CC01922E7169EB6CBBEF4B682BEAB68DF515131E3BA205F33A80FDD378942389"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			if got := hashID(tt.raw); got != tt.want {
				t.Errorf("hashID = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestUniqueSorted(t *testing.T) {
	tests := []struct {
		name  string
		in    []string
		limit int
		want  []string
	}{
		{"empty", nil, 10, []string{}},
		{"duplicates and blanks", []string{"svchost.exe", "", "chrome.exe", "svchost.exe", "chrome.exe"}, 10, []string{"chrome.exe", "svchost.exe"}},
		{"capped after sorting", []string{"d", "c", "b", "a", "a"}, 2, []string{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := slices.Clone(tt.in)
			got := uniqueSorted(in, tt.limit)
			if !slices.Equal(got, tt.want) {
				t.Errorf("uniqueSorted(%q, %d) = %q, want %q", tt.in, tt.limit, got, tt.want)
			}
			if !slices.Equal(in, tt.in) {
				t.Errorf("uniqueSorted changed its input to %q", in)
			}
		})
	}
}

func TestBusyPercent(t *testing.T) {
	tests := []struct {
		name      string
		prev, cur cpu.TimesStat
		want      float64
		ok        bool
	}{
		{"since boot", cpu.TimesStat{}, cpu.TimesStat{User: 30, System: 10, Idle: 60}, 40, true},
		{"half busy", cpu.TimesStat{User: 10, Idle: 10}, cpu.TimesStat{User: 20, System: 5, Idle: 25}, 50, true},
		{"iowait is idle", cpu.TimesStat{}, cpu.TimesStat{User: 25, Idle: 50, Iowait: 25}, 25, true},
		{"guest counted once, in user", cpu.TimesStat{}, cpu.TimesStat{User: 50, Guest: 40, Idle: 50}, 50, true},
		{"irq and steal are busy", cpu.TimesStat{}, cpu.TimesStat{Irq: 5, Softirq: 5, Steal: 10, Idle: 80}, 20, true},
		{"no time elapsed", cpu.TimesStat{User: 5, Idle: 5}, cpu.TimesStat{User: 5, Idle: 5}, 0, false},
		{"counter went back", cpu.TimesStat{User: 50, Idle: 50}, cpu.TimesStat{User: 10, Idle: 10}, 0, false},
		{"never above 100", cpu.TimesStat{Idle: 50}, cpu.TimesStat{User: 20, Idle: 40}, 100, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := busyPercent(tt.prev, tt.cur)
			if got != tt.want || ok != tt.ok {
				t.Errorf("busyPercent = %v, %v; want %v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestMacFor(t *testing.T) {
	mac := func(s string) net.HardwareAddr {
		hw, err := net.ParseMAC(s)
		if err != nil {
			t.Fatal(err)
		}
		return hw
	}
	loopback := nic{flags: net.FlagUp | net.FlagLoopback, nets: addrs(t, "127.0.0.1/8", "::1/128")}
	eth := nic{flags: net.FlagUp, mac: mac("00:1a:2b:3c:4d:5e"), nets: addrs(t, "10.0.0.23/24")}
	wifi := nic{flags: net.FlagUp, mac: mac("a4:b1:c1:00:00:01"), nets: addrs(t, "192.168.1.7/23", "fe80::1/64")}
	downNIC := nic{mac: mac("02:00:00:00:00:09")}
	vpn := nic{flags: net.FlagUp | net.FlagPointToPoint, nets: addrs(t, "10.8.0.2/32")}

	tests := []struct {
		name string
		nics []nic
		ip   string
		want string
	}{
		{"interface holding the route", []nic{loopback, eth, wifi}, "192.168.1.7", "A4:B1:C1:00:00:01"},
		{"IPv6 route", []nic{loopback, eth, wifi}, "fe80::1", "A4:B1:C1:00:00:01"},
		{"loopback server falls back to the first real NIC", []nic{loopback, downNIC, eth, wifi}, "127.0.0.1", "00:1A:2B:3C:4D:5E"},
		{"VPN without MAC falls back", []nic{loopback, vpn, wifi}, "10.8.0.2", "A4:B1:C1:00:00:01"},
		{"route unknown falls back", []nic{loopback, wifi, eth}, "", "A4:B1:C1:00:00:01"},
		{"nothing with a MAC", []nic{loopback, vpn, downNIC}, "127.0.0.1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := macFor(tt.nics, net.ParseIP(tt.ip)); got != tt.want {
				t.Errorf("macFor(%s) = %q, want %q", tt.ip, got, tt.want)
			}
		})
	}
}

func BenchmarkLight(b *testing.B) {
	c := newLocal(b)
	ctx := context.Background()
	c.Light(ctx) // fill the route cache, as the agent's first poll does
	b.ReportAllocs()
	for b.Loop() {
		if info := c.Light(ctx); info.CPUUsage == nil || info.RAMUsagePercent == nil || info.IPAddress == nil {
			b.Fatalf("Light lost a field: %+v", info)
		}
	}
}

func BenchmarkFull(b *testing.B) {
	c := newLocal(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if info := c.Full(ctx); len(info.Processes) == 0 || info.Uptime == nil {
			b.Fatalf("Full lost a field: %+v", info)
		}
	}
}

// addrs are interface addresses with their prefixes, as net.Interface.Addrs gives them.
func addrs(t *testing.T, cidrs ...string) []*net.IPNet {
	t.Helper()
	var out []*net.IPNet
	for _, c := range cidrs {
		ip, n, err := net.ParseCIDR(c)
		if err != nil {
			t.Fatal(err)
		}
		n.IP = ip
		out = append(out, n)
	}
	return out
}

// The subnet reported for Wake-on-LAN is the route's address with its interface's prefix, IPv4
// only.
func TestSubnetFor(t *testing.T) {
	nics := []nic{
		{flags: net.FlagUp | net.FlagLoopback, nets: addrs(t, "127.0.0.1/8")},
		{flags: net.FlagUp, nets: addrs(t, "192.168.10.23/24", "fe80::1/64")},
	}
	for ip, want := range map[string]string{"192.168.10.23": "192.168.10.23/24", "127.0.0.1": "127.0.0.1/8", "fe80::1": "", "10.0.0.9": ""} {
		if got := subnetFor(nics, net.ParseIP(ip)); got != want {
			t.Errorf("subnetFor(%s) = %q, want %q", ip, got, want)
		}
	}
}
