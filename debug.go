package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime"
	"time"
)

// checkDebugAddr refuses a profiling address that is not loopback: profiles show memory, and
// the endpoints have no login.
func checkDebugAddr(addr string) error {
	if addr == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-debug-addr %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("-debug-addr %q: only a loopback address (127.0.0.1:6060, [::1]:6060) may serve profiles", addr)
	}
	return nil
}

// debugServer serves Go's profiles under /debug/pprof/ on its own mux, never the dashboard's.
// It also turns on sampling of blocking and lock contention (a small cost), so the block and
// mutex profiles show where requests wait.
func debugServer() *http.Server {
	runtime.SetBlockProfileRate(int(100 * time.Microsecond))
	runtime.SetMutexProfileFraction(100)
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	// No write timeout: a CPU profile or trace answers after the seconds it was asked for.
	return &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
}
