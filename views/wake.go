package views

import (
	"context"
	"strings"
)

// Wake states as models names them (the views do not import models).
const (
	wakeWaking = "waking"
	wakeAwake  = "awake"
)

// wakeText says a tile's wake: waking, awake and how long it took, or that it did not wake.
func wakeText(ctx context.Context, t Tile) string {
	switch t.Wake {
	case wakeWaking:
		return T(ctx, "켜는 중…", "waking…")
	case wakeAwake:
		return T(ctx, "켜짐 · ", "awake · ") + duration(ctx, t.WakeTook)
	}
	return T(ctx, "켜지지 않음", "did not wake")
}

// WakeResult is what a wake from the dashboard did.
type WakeResult struct {
	Room    string      // the room woken; "" for a selection
	Relays  []WakeRelay // one per subnet
	NoRelay []string    // hostnames of the PCs no one could wake
	Online  int         // PCs that were on already
}

// WakeRelay is one subnet's wake: who sends the packets, for whom.
type WakeRelay struct {
	Subnet  string
	Via     []string
	Targets []string
}

// waking counts the PCs being woken.
func (r WakeResult) waking() int {
	n := 0
	for _, rl := range r.Relays {
		n += len(rl.Targets)
	}
	return n
}

// names lists hostnames for a sentence.
func names(hosts []string) string { return strings.Join(hosts, ", ") }

// roomVals are the form values naming a room, for a button's hx-vals.
func roomVals(room string) string { return jsonObject(map[string]string{"room": room}) }
