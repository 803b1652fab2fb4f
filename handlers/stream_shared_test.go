package handlers_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/r3labs/sse/v2"
)

// Why every browser tab has a stream of its own (docs/ARCHITECTURE.md, "Live updates"): the
// library's own way, one stream per room shared by every tab showing it, hands each event to
// each subscriber with a blocking send, so one browser that stops reading freezes the room for
// everyone else. This measures it, on the library alone, with and without a stalled subscriber.
//
//	go test -count=1 -run TestSharedStreamFreezesBehindOneStalledBrowser -v ./handlers/
func TestSharedStreamFreezesBehindOneStalledBrowser(t *testing.T) {
	for _, stalled := range []bool{false, true} {
		t.Run(fmt.Sprintf("stalled=%v", stalled), func(t *testing.T) {
			published, got, lastSecond := sharedStreamRun(t, stalled)
			t.Logf("published %d batches of 64 KB in 3 s; a reading tab received %d, %d of them in the last second",
				published, got, lastSecond)
			switch {
			case !stalled && lastSecond < 50:
				t.Errorf("with no stalled tab a reading tab received only %d batches in the last second", lastSecond)
			case stalled && lastSecond > 0:
				t.Errorf("the shared stream kept feeding a reading tab (%d batches in the last second) next to a "+
					"stalled one: the library no longer blocks, and per-tab streams may be worth revisiting", lastSecond)
			}
		})
	}
}

// sharedStreamRun publishes a 64 KB event (a full batch) every 10 ms for 3 s on one r3labs stream, configured as
// the server's streams are, to 8 reading subscribers and, if stalled, one that never reads. It
// returns how many events the stream accepted (TryPublish, as the server publishes) and how many
// one reader received in all and in the last second.
func sharedStreamRun(t *testing.T, stalled bool) (published, got, lastSecond int64) {
	srv := sse.New()
	srv.AutoReplay = false
	srv.SplitData = true
	srv.CreateStream("room")
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ts.CloseClientConnections()
		ts.Close()
	})
	if stalled {
		u, _ := url.Parse(ts.URL)
		conn, err := (&net.Dialer{Control: smallReceiveBuffer}).Dial("tcp", u.Host)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		fmt.Fprintf(conn, "GET /?stream=room HTTP/1.1\r\nHost: %s\r\n\r\n", u.Host)
	}
	start := time.Now()
	end := start.Add(3 * time.Second)
	var received, late atomic.Int64
	for i := range 8 {
		res, err := http.Get(ts.URL + "/?stream=room")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		go func() {
			sc := bufio.NewScanner(res.Body)
			sc.Buffer(make([]byte, 128<<10), 128<<10)
			for sc.Scan() {
				if i == 0 && strings.HasPrefix(sc.Text(), "event:") {
					received.Add(1)
					if time.Since(start) > 2*time.Second {
						late.Add(1)
					}
				}
			}
		}()
	}
	time.Sleep(100 * time.Millisecond) // every subscriber attached
	data := []byte(strings.Repeat("x", 64<<10))
	for time.Now().Before(end) {
		if srv.TryPublish("room", &sse.Event{Event: []byte("live"), Data: data}) {
			published++
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // what is on its way arrives
	return published, received.Load(), late.Load()
}
