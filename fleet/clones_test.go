package fleet

import (
	"testing"
	"time"
)

func TestCopies(t *testing.T) {
	start := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	cases := []struct {
		name  string
		calls string // one letter a copy ("A" instance, "a" a published client's address), 2 s apart
		gap   time.Duration
		want  bool
	}{
		{"one install", "AAAAAAAA", 0, false},
		{"a move to a new address", "aaaabbbb", 0, false},
		{"reinstalled twice", "AAABBBCCC", 0, false},
		{"two clones taking turns", "ABABAB", 0, true},
		{"two published clients taking turns", "ababab", 0, true},
		{"three clones in a ring", "ABCABCA", 0, true},
		{"turns far apart", "ABABAB", 6 * time.Minute, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var w copies
			now, became := start, 0
			for _, r := range c.calls {
				instance, addr := "", "10.0.0."+string(r)
				if r >= 'A' && r <= 'Z' {
					instance, addr = "I-"+string(r), "10.0.0.1"
				}
				if w.see(instance, addr, now) {
					became++
				}
				now = now.Add(2*time.Second + c.gap)
			}
			if got := w.suspect(now); got != c.want || became != map[bool]int{true: 1}[c.want] {
				t.Fatalf("suspect %v (became %d times), want %v", got, became, c.want)
			}
			if c.want {
				if n, want := len(w.seen(now)), len(uniq(c.calls)); n != want {
					t.Errorf("%d copies seen, want %d", n, want)
				}
				if w.suspect(now.Add(cloneWindow)) {
					t.Error("still a suspect a window after the last switch")
				}
			}
		})
	}
}

// uniq is the distinct letters of s.
func uniq(s string) map[rune]bool {
	out := map[rune]bool{}
	for _, r := range s {
		out[r] = true
	}
	return out
}
