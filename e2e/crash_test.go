package e2e

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ack is what the server acknowledged with a 2xx before it was killed.
type ack struct {
	mu       sync.Mutex
	pcs      map[string]*crashPC // machine_id → PC
	commands map[int64]bool      // command ids queued
	results  map[int64]string    // command id → output reported
}

type crashPC struct {
	machineID, token string
	id               int64
	// beats are the CPU values of acknowledged light heartbeats, rising, with when they were acknowledged.
	beats []beat
}

type beat struct {
	cpu float64
	at  time.Time
}

// sleep waits d and reports true, or reports false as soon as stop is closed.
func sleep(stop <-chan struct{}, d time.Duration) bool {
	select {
	case <-stop:
		return false
	case <-time.After(d):
		return true
	}
}

// TestCrashKeepsEverythingAcknowledged runs agents, registrations, commands and results against
// the real server, kills it with SIGKILL at a random moment, restarts it on the same database and
// checks that everything it acknowledged is there.
func TestCrashKeepsEverythingAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts the server")
	}
	srv := startServer(t, "-state-every", "1s")
	pin := srv.newPIN("multi", 600)
	a := &ack{pcs: map[string]*crashPC{}, commands: map[int64]bool{}, results: map[int64]string{}}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	register := func(machineID string) {
		var res struct {
			PCID  int64  `json:"pc_id"`
			Token string `json:"agent_token"`
		}
		if send(client, "POST", srv.URL+"/api/client/register", "", "", map[string]any{"machine_id": machineID, "pin": pin,
			"hostname": machineID, "mac_address": "AA:BB:CC:00:00:01"}, &res) == nil {
			a.mu.Lock()
			a.pcs[machineID] = &crashPC{machineID: machineID, token: res.Token, id: res.PCID}
			a.mu.Unlock()
		}
	}
	for i := range 60 {
		register(fmt.Sprintf("CRASH-%03d", i))
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	a.mu.Lock()
	initial := make([]*crashPC, 0, len(a.pcs))
	for _, p := range a.pcs {
		initial = append(initial, p)
	}
	a.mu.Unlock()
	for _, p := range initial {
		wg.Go(func() { // one agent: light heartbeats with rising CPU values, results for its commands
			// Polls 0.9–1.1 s apart stay under the poll rate limit.
			for cpu := 0.5; sleep(stop, time.Duration(900+rand.IntN(200))*time.Millisecond); cpu += 0.5 {
				var res struct {
					Data struct {
						Command *struct {
							ID int64 `json:"id"`
						} `json:"command"`
					} `json:"data"`
				}
				if send(client, "POST", srv.URL+"/api/client/commands", p.token, "", map[string]any{"machine_id": p.machineID,
					"heartbeat": map[string]any{"cpu_usage": cpu, "ram_usage_percent": 50.0, "ip_address": "10.0.0.9"}}, &res) != nil {
					continue
				}
				a.mu.Lock()
				p.beats = append(p.beats, beat{cpu, time.Now()})
				a.mu.Unlock()
				if c := res.Data.Command; c != nil {
					out := fmt.Sprintf("ran %d", c.ID)
					if send(client, "POST", fmt.Sprintf("%s/api/client/commands/%d/result", srv.URL, c.ID), p.token, "",
						map[string]any{"status": "success", "output": out, "exit_code": 0}, nil) == nil {
						a.mu.Lock()
						a.results[c.ID] = out
						a.mu.Unlock()
					}
				}
			}
		})
	}
	wg.Go(func() { // the admin: a steady stream of commands
		for i := 0; sleep(stop, 25*time.Millisecond); i++ {
			p := initial[rand.IntN(len(initial))]
			var res struct {
				CommandID int64 `json:"command_id"`
			}
			if send(srv.http, "POST", fmt.Sprintf("%s/api/admin/pc/%d/command", srv.URL, p.id), "", srv.csrf,
				map[string]any{"type": "execute", "parameters": map[string]any{"command": fmt.Sprintf("echo %d", i)}}, &res) == nil {
				a.mu.Lock()
				a.commands[res.CommandID] = true
				a.mu.Unlock()
			}
		}
	})
	wg.Go(func() { // PCs still registering
		for i := 0; sleep(stop, 50*time.Millisecond); i++ {
			register(fmt.Sprintf("LATE-%04d", i))
		}
	})

	run := time.Duration(3000+rand.IntN(4000)) * time.Millisecond
	time.Sleep(run)
	srv.proc.signal(syscall.SIGKILL)
	killed := time.Now()
	<-srv.proc.done
	close(stop)
	wg.Wait()
	a.mu.Lock()
	defer a.mu.Unlock()
	t.Logf("killed after %v: %d registrations, %d commands, %d results acknowledged", run, len(a.pcs), len(a.commands), len(a.results))

	srv.start()
	srv.login()
	stored := map[string]map[string]any{}
	for _, p := range srv.pcs() {
		stored[p["machine_id"].(string)] = p
	}
	stale := 0
	for machineID, p := range a.pcs {
		got, ok := stored[machineID]
		if !ok || int64(got["id"].(float64)) != p.id {
			t.Errorf("registration of %s (pc %d) acknowledged but lost: %v", machineID, p.id, got)
			continue
		}
		// Light state may lose up to -state-every (1 s here, 30 s by default): the stored CPU
		// must be at least the last value acknowledged 1.5 s before the kill.
		var floor float64
		for _, b := range p.beats {
			if b.at.Before(killed.Add(-1500 * time.Millisecond)) {
				floor = b.cpu
			}
		}
		if cpu, _ := got["cpu_usage"].(float64); floor > 0 && cpu < floor {
			stale++
			t.Errorf("%s: stored CPU %v, but %v was acknowledged more than 1.5 s before the kill", machineID, cpu, floor)
		}
	}
	for id := range a.commands {
		c := srv.commandState(id)
		if out, ok := a.results[id]; ok && (c["status"] != "completed" || c["output"] != out) {
			t.Errorf("command %d: result %q acknowledged, stored %v %q", id, out, c["status"], c["output"])
		}
	}
	for id := range a.results {
		if !a.commands[id] {
			srv.commandState(id) // fails the test if the command is unknown
		}
	}
	// Every token still identifies its PC.
	for _, p := range a.pcs {
		if send(client, "POST", srv.URL+"/api/client/commands", p.token, "", map[string]any{"machine_id": p.machineID}, nil) != nil {
			t.Errorf("%s: its token no longer works after the restart", p.machineID)
		}
	}
}
