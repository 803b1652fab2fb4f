package main

import (
	"math/bits"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// histogram records durations in microseconds in log-linear buckets (HDR-like): exact below
// 512 µs, then 256 buckets per power of two, so a percentile is off by at most 0.4 %. Recording
// is one atomic add, so thousands of agents can record without a lock.
type histogram struct {
	counts [histBuckets]atomic.Uint64
	max    atomic.Uint64 // µs
	n      atomic.Uint64
}

const (
	histSub     = 256
	histBuckets = 2*histSub + 40*histSub
)

func bucketOf(us uint64) int {
	if us < 2*histSub {
		return int(us)
	}
	shift := bits.Len64(us) - 9 // us>>shift is in [256, 512)
	return 2*histSub + (shift-1)*histSub + int(us>>shift) - histSub
}

// bucketFloor is the smallest value that falls in bucket i.
func bucketFloor(i int) uint64 {
	if i < 2*histSub {
		return uint64(i)
	}
	i -= 2 * histSub
	shift := i/histSub + 1
	return uint64(histSub+i%histSub) << shift
}

func (h *histogram) record(d time.Duration) {
	us := uint64(max(d.Microseconds(), 0))
	h.counts[min(bucketOf(us), histBuckets-1)].Add(1)
	h.n.Add(1)
	for {
		m := h.max.Load()
		if us <= m || h.max.CompareAndSwap(m, us) {
			return
		}
	}
}

// quantile returns the value below which fraction q of the samples fall (the bucket's floor).
func (h *histogram) quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(q*float64(n-1)) + 1
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			return time.Duration(bucketFloor(i)) * time.Microsecond
		}
	}
	return time.Duration(h.max.Load()) * time.Microsecond
}

// summary is a histogram's figures for the report.
func (h *histogram) summary() Latency {
	return Latency{Count: h.n.Load(), P50: ms(h.quantile(0.50)), P99: ms(h.quantile(0.99)),
		Max: ms(time.Duration(h.max.Load()) * time.Microsecond)}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// errorCounts counts failures by kind ("http_404", "http_429", "network"). Errors are rare, so
// a mutex is fine.
type errorCounts struct {
	mu sync.Mutex
	m  map[string]int64
}

func (e *errorCounts) add(kind string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.m == nil {
		e.m = map[string]int64{}
	}
	e.m[kind]++
}

func (e *errorCounts) addStatus(code int) { e.add("http_" + strconv.Itoa(code)) }

func (e *errorCounts) snapshot() (map[string]int64, int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]int64, len(e.m))
	var total int64
	for k, v := range e.m {
		out[k] = v
		total += v
	}
	return out, total
}

// sortedKeys lists m's keys in order, for stable output.
func sortedKeys(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
