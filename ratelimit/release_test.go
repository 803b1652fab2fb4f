package ratelimit

import (
	"testing"
	"time"
)

// Release takes back one reservation and no more: failures before it still count.
func TestRelease(t *testing.T) {
	f := NewFailures(3, time.Minute, 100)
	f.Fail("a", t0)
	f.Fail("a", t0)
	if ok, _ := f.Reserve("a", t0); !ok {
		t.Fatal("third attempt refused")
	}
	if ok, _ := f.Allow("a", t0); ok {
		t.Fatal("a fourth allowed while three are counted")
	}
	f.Release("a")
	if ok, _ := f.Allow("a", t0); !ok {
		t.Fatal("the released attempt still counts")
	}
	f.Release("a")
	f.Release("a")
	f.Release("a") // more releases than failures: harmless
	f.Release("never seen")
	if n := f.size(t); n != 0 {
		t.Fatalf("%d keys kept after every failure was released", n)
	}
}
