// Package collect gathers what the WCMS agent reports about its PC: identity and static specs
// at registration, a light heartbeat with every command poll and a full one every few minutes.
//
// The OS specifics live in sys_*.go files; each provides the same small set of functions
// (machineID, systemUUID, osEdition, osVersion, cpuModel, fixedDisks, consoleUser, processNames).
package collect

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/host"
	"github.com/shirou/gopsutil/v4/mem"

	"github.com/wcms-lab/wcms/wire"
)

const (
	bytesPerGB = 1 << 30
	// maxProcesses caps the process list so one odd PC cannot bloat every full heartbeat.
	maxProcesses = 1000
)

var errNoMAC = errors.New("no network interface with a hardware address is up")

// Collector gathers what the agent reports. Safe for concurrent use.
type Collector struct {
	server string // host:port of the WCMS server; dialled over UDP to learn the local route
	log    *slog.Logger
	cpu    cpuSampler

	mu    sync.Mutex
	route route // last route lookup, reused for routeTTL
}

// volume is one fixed disk as the OS reports it.
type volume struct {
	mount   string // `C:\` on Windows, a mount point elsewhere
	fstype  string
	total   uint64 // bytes
	used    uint64
	free    uint64
	percent float64
}

// New returns a collector for an agent talking to serverURL (e.g. "http://10.0.0.5:5050");
// the server's host decides which interface's IP and MAC are reported.
func New(serverURL string, log *slog.Logger) (*Collector, error) {
	server, err := serverAddr(serverURL)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Collector{server: server, log: log}, nil
}

// serverAddr turns the server URL into the host:port to dial, defaulting the port by scheme.
func serverAddr(serverURL string) (string, error) {
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", fmt.Errorf("collect: parse server url: %w", err)
	}
	if u.Hostname() == "" {
		return "", fmt.Errorf("collect: server url %q has no host", serverURL)
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return net.JoinHostPort(u.Hostname(), port), nil
}

// Registration returns the static specs for POST /api/client/register; the machine id, instance
// id and PIN are the agent's to fill in (see Identity). It fails only when the hostname cannot be
// read; any other failure leaves the field empty/zero and is logged at warn.
func (c *Collector) Registration(ctx context.Context) (wire.RegisterRequest, error) {
	hostname, err := os.Hostname()
	if err != nil {
		return wire.RegisterRequest{}, fmt.Errorf("registration: hostname: %w", err)
	}
	// A fresh lookup, not the cache: the server files the PC under the MAC sent here.
	r := c.refreshRoute(ctx)
	if r.err != nil {
		c.log.WarnContext(ctx, "collect: field unavailable", "field", "ip_address", "err", r.err)
	}
	if r.mac == "" {
		c.log.WarnContext(ctx, "collect: field unavailable", "field", "mac_address", "err", cmp.Or(r.macErr, errNoMAC))
	}
	req := wire.RegisterRequest{
		Hostname:   hostname,
		MACAddress: r.mac,
		IPAddress:  r.ip,
	}

	const level = slog.LevelWarn
	req.CPUModel, _ = field(ctx, c, level, "cpu_model", cpuModel)
	req.CPUCores, _ = field(ctx, c, level, "cpu_cores", func(ctx context.Context) (int, error) {
		return cpu.CountsWithContext(ctx, false)
	})
	req.CPUThreads, _ = field(ctx, c, level, "cpu_threads", func(ctx context.Context) (int, error) {
		return cpu.CountsWithContext(ctx, true)
	})
	if vm, ok := field(ctx, c, level, "ram_total", mem.VirtualMemoryWithContext); ok {
		req.RAMTotal = round2(float64(vm.Total) / bytesPerGB)
	}
	if vols, ok := field(ctx, c, level, "disk_info", fixedDisks); ok && len(vols) > 0 {
		req.DiskInfo = make(wire.DiskSpecs, len(vols))
		for _, v := range vols {
			req.DiskInfo[v.mount] = wire.DiskSpec{TotalGB: round2(float64(v.total) / bytesPerGB), FSType: v.fstype}
		}
	}
	req.OSEdition, _ = field(ctx, c, level, "os_edition", osEdition)
	req.OSVersion, _ = field(ctx, c, level, "os_version", osVersion)
	return req, nil
}

// Light returns cpu_usage, ram_usage_percent and ip_address for a poll. Nothing in it sleeps
// or samples over time, and the route is cached, so it returns within milliseconds. Fields that
// fail are nil.
func (c *Collector) Light(ctx context.Context) *wire.SystemInfo {
	const level = slog.LevelDebug
	return &wire.SystemInfo{
		CPUUsage:        opt(field(ctx, c, level, "cpu_usage", c.cpu.sample)),
		RAMUsagePercent: opt(field(ctx, c, level, "ram_usage_percent", ramPercent)),
		IPAddress:       opt(field(ctx, c, level, "ip_address", c.localIP)),
	}
}

// Full returns every field of a full heartbeat. Fields that fail are nil/empty, never an error.
func (c *Collector) Full(ctx context.Context) *wire.SystemInfo {
	const level = slog.LevelDebug
	info := &wire.SystemInfo{
		CPUUsage:    opt(field(ctx, c, level, "cpu_usage", c.cpu.sample)),
		CurrentUser: opt(field(ctx, c, level, "current_user", consoleUser)),
		Uptime:      opt(field(ctx, c, level, "uptime", uptime)),
		IPAddress:   opt(field(ctx, c, level, "ip_address", c.localIP)),
	}
	if vm, ok := field(ctx, c, level, "ram_used", mem.VirtualMemoryWithContext); ok {
		info.RAMUsed = ptr(round2(float64(vm.Used) / bytesPerGB))
		info.RAMUsagePercent = ptr(round1(vm.UsedPercent))
	}
	if vols, ok := field(ctx, c, level, "disk_usage", fixedDisks); ok && len(vols) > 0 {
		info.DiskUsage = make(wire.DiskUsages, len(vols))
		for _, v := range vols {
			info.DiskUsage[v.mount] = wire.DiskUsage{
				UsedGB:  round2(float64(v.used) / bytesPerGB),
				FreeGB:  round2(float64(v.free) / bytesPerGB),
				Percent: round1(v.percent),
			}
		}
	}
	if names, ok := field(ctx, c, level, "processes", processNames); ok {
		info.Processes = uniqueSorted(names, maxProcesses)
	}
	// The interface that reaches the server, for Wake-on-LAN: the server asks a PC of the same
	// subnet to wake this one.
	if r := c.currentRoute(ctx); r.err == nil {
		info.MACAddress, info.Subnet = opt(r.mac, r.mac != ""), opt(r.subnet, r.subnet != "")
	}
	return info
}

// BootTime is when the OS last started (used to skip power commands queued before it).
func (c *Collector) BootTime() (time.Time, error) {
	secs, err := host.BootTimeWithContext(context.Background())
	if err != nil {
		return time.Time{}, fmt.Errorf("boot time: %w", err)
	}
	return time.Unix(int64(secs), 0), nil
}

// hashID hides the OS's raw machine id behind its SHA-256, in upper-case hex: stable, yet the
// raw id (which some software uses as a licence key) never leaves the PC.
func hashID(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

func ramPercent(ctx context.Context) (float64, error) {
	vm, err := mem.VirtualMemoryWithContext(ctx)
	if err != nil {
		return 0, err
	}
	return round1(vm.UsedPercent), nil
}

func uptime(ctx context.Context) (int64, error) {
	secs, err := host.UptimeWithContext(ctx)
	return int64(secs), err
}

// uniqueSorted returns the distinct non-empty names in order, at most limit of them.
func uniqueSorted(names []string, limit int) []string {
	out := slices.DeleteFunc(slices.Clone(names), func(s string) bool { return s == "" })
	slices.Sort(out)
	out = slices.Compact(out)
	return out[:min(len(out), limit)]
}

// field runs one source through attempt and logs a failure at level; the caller then leaves the
// field empty, so one broken source costs that field only.
func field[T any](ctx context.Context, c *Collector, level slog.Level, name string, get func(context.Context) (T, error)) (T, bool) {
	v, err := attempt(ctx, get)
	if err != nil {
		c.log.Log(ctx, level, "collect: field unavailable", "field", name, "err", err)
		return v, false
	}
	return v, true
}

// attempt runs get on its own goroutine and gives up when ctx ends first, turning a panic into an
// error. Some OS calls ignore ctx (statfs, registry, WTS), so this is what keeps a stuck or
// broken source from holding up the agent's loop.
func attempt[T any](ctx context.Context, get func(context.Context) (T, error)) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1) // buffered: an abandoned source can still finish and exit
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- result{err: fmt.Errorf("panic: %v", p)}
			}
		}()
		v, err := get(ctx)
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

// opt is ptr for a value that may not have been read.
func opt[T any](v T, ok bool) *T {
	if !ok {
		return nil
	}
	return &v
}

func ptr[T any](v T) *T { return &v }

func round1(x float64) float64 { return math.Round(x*10) / 10 }

func round2(x float64) float64 { return math.Round(x*100) / 100 }
