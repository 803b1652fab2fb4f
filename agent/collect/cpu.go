package collect

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/shirou/gopsutil/v4/cpu"
)

// cpuSampler turns cumulative CPU times into a usage percentage since its previous call. It
// keeps its own baseline rather than gopsutil's process-wide one (cpu.Percent(0, …)), so
// collectors and other callers cannot skew each other. The first call measures since boot.
type cpuSampler struct {
	mu      sync.Mutex
	last    cpu.TimesStat
	percent float64
}

func (s *cpuSampler) sample(ctx context.Context) (float64, error) {
	times, err := cpu.TimesWithContext(ctx, false)
	if err != nil {
		return 0, fmt.Errorf("cpu times: %w", err)
	}
	if len(times) == 0 {
		return 0, errors.New("cpu times: none reported")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Two calls within one clock tick see no elapsed time: repeat the last figure.
	if p, ok := busyPercent(s.last, times[0]); ok {
		s.percent = round1(p)
	}
	s.last = times[0]
	return s.percent, nil
}

// busyPercent is the share of time the CPUs were busy between two samples of cumulative times,
// or false when no time elapsed between them. Guest time stays out of the total because Linux
// already counts it in user and nice; the other systems report none.
func busyPercent(prev, cur cpu.TimesStat) (float64, bool) {
	elapsed := cpuTotal(cur) - cpuTotal(prev)
	if elapsed <= 0 {
		return 0, false
	}
	idle := (cur.Idle + cur.Iowait) - (prev.Idle + prev.Iowait)
	return min(100, max(0, (elapsed-idle)/elapsed*100)), true
}

func cpuTotal(t cpu.TimesStat) float64 {
	return t.User + t.System + t.Idle + t.Nice + t.Iowait + t.Irq + t.Softirq + t.Steal
}
