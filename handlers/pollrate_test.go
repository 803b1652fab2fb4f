package handlers

import (
	"testing"
	"time"
)

func TestPollRate(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	r := newPollRate(100, t0)
	steps := []struct {
		name  string
		polls int64
		at    time.Duration // after t0
		rate  float64
		over  time.Duration
	}{
		{"too soon to measure", 110, time.Second, 0, 0},
		{"first measurement", 160, 3 * time.Second, 20, 3 * time.Second},
		{"a view right after shares it", 170, 4 * time.Second, 20, 3 * time.Second},
		{"next measurement", 220, 5 * time.Second, 30, 2 * time.Second},
		{"idle fleet", 220, 65 * time.Second, 0, time.Minute},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			rate, over := r.observe(s.polls, t0.Add(s.at))
			if rate != s.rate || over != s.over {
				t.Errorf("observe(%d, +%v) = %v/s over %v, want %v/s over %v", s.polls, s.at, rate, over, s.rate, s.over)
			}
		})
	}
}
