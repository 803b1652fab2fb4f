package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wcms-lab/wcms/fleet"
	"github.com/wcms-lab/wcms/handlers"
	"github.com/wcms-lab/wcms/wire"
)

// fuzzDo sends one request with a raw body. The harness's ts.do fails the *testing.F it was
// built with, which a fuzz function must not touch.
func fuzzDo(ctx context.Context, hc *http.Client, method, url string, body []byte, header ...string) (response, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return response{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := hc.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return response{}, err
	}
	out := response{Status: res.StatusCode, Header: res.Header, Raw: string(raw)}
	_ = json.Unmarshal(raw, &out.Body)
	return out, nil
}

// checkFuzzAnswer is the invariant of every fuzzed API call: no server fault, and every refusal
// in the contract's dual error envelope.
func checkFuzzAnswer(t *testing.T, what string, res response) {
	t.Helper()
	if res.Status >= 500 {
		t.Fatalf("%s: server fault %d: %s", what, res.Status, res.Raw)
	}
	if res.Status >= 400 {
		checkEnvelope(t, res, res.Status, "")
	}
}

// fuzzRoutes are the agent API routes with a body; "{id}" takes the fuzzed command id.
var fuzzRoutes = []string{
	"/api/client/register", "/api/client/heartbeat", "/api/client/commands", "/api/client/command",
	"/api/client/commands/{id}/result", "/api/client/shutdown", "/api/client/offline",
}

// FuzzClientAPI sends fuzzed bodies to every agent API route of one in-process server, with no
// token, the probe PC's token or a made-up one. In bodies @PIN@ stands for a valid multi-use PIN,
// so the fuzzer can reach past the PIN check in every run.
func FuzzClientAPI(f *testing.F) {
	ts := newTestServer(f, func(c *handlers.Config, _ *fleet.Config) { c.PINFailures = 1 << 30 })
	a := ts.admin()
	pin := ts.pin(a, "multi")
	probe := ts.register(pin, "FZ-1")
	cmdID := a.do("POST", "/api/admin/pc/"+itoa(probe.PCID)+"/execute", map[string]any{"command": "hostname"}).must(f, 200).num("command_id")
	probe.poll(nil).must(f, 200)

	for _, s := range []struct {
		route uint8
		body  string
	}{
		{0, `{"machine_id":"FZ-2","pin":"@PIN@","hostname":"LAB-02","mac_address":"A1:B2:C3:D4:E5:F7","ip_address":"10.0.0.2",` +
			`"cpu_model":"i5","cpu_cores":6,"cpu_threads":6,"ram_total":16,"disk_info":{"C:\\":{"total_gb":237,"fstype":"NTFS"}},` +
			`"os_edition":"Windows 10 Pro","os_version":"10.0.19045"}`},
		{0, `{"machine_id":"FZ-3","pin":"@PIN@","hostname":"h","mac_address":"m","ram_total":16384,` +
			`"disk_info":"{\"C:\\\\\":{\"total\":254721126400,\"fstype\":\"NTFS\"}}","system_info":{"cpu_usage":1,"processes":"[\"a.exe\"]"}}`},
		{0, `{"machine_id":"FZ-4","pin":"000000","hostname":"h","mac_address":"m"}`},
		{0, `{"machine_id":"FZ-5","pin":"@PIN@","hostname":"h","mac_address":"m","cpu_cores":-1}`},
		{1, `{"machine_id":"FZ-1","full_update":true,"system_info":{"cpu_usage":12.5,"ram_used":4.2,"ram_usage_percent":26.3,` +
			`"disk_usage":{"C:\\":{"used_gb":100,"free_gb":137,"percent":42.2}},"current_user":"student","uptime":3600,` +
			`"ip_address":"192.168.1.100","processes":["explorer.exe","chrome.exe"]}}`},
		{1, `{"machine_id":"FZ-1","system_info":{"cpu_usage":1,"disk_usage":"{\"C:\\\\\":{\"used\":1,\"free\":1,\"percent\":50}}"}}`},
		{1, `{"machine_id":"FZ-1","full_update":false,"system_info":{"cpu_usage":101}}`},
		{1, `{"machine_id":"NOPE","system_info":{}}`},
		{2, `{"machine_id":"FZ-1","heartbeat":{"cpu_usage":12.5,"ram_usage_percent":40,"ip_address":"192.168.1.7"}}`},
		{2, `{"machine_id":"FZ-1","heartbeat":{"full_update":true,"system_info":{"current_user":"x","processes":[]}},"wait":0.2}`},
		{2, `{"machine_id":"FZ-1","wait":-1}`},
		{3, `{"machine_id":"FZ-1"}`},
		{4, `{"status":"success","output":"LAB-01\r\n","exit_code":0}`},
		{4, `{"status":"maybe","output":""}`},
		{5, `{"machine_id":"FZ-1"}`},
		{6, `{"machine_id":"FZ-1"}`},
		{6, ``},
		{2, `{"machine_id":"FZ-1","heartbeat":{"cpu_usage":"\u0000"}}`},
		{0, `[{"machine_id":"FZ-6"}]`},
	} {
		for auth := range uint8(3) {
			f.Add(s.route, cmdID, auth, []byte(s.body))
		}
	}

	hc := noRedirect(nil)
	f.Fuzz(func(t *testing.T, route uint8, cmd int64, auth uint8, body []byte) {
		path := fuzzRoutes[int(route)%len(fuzzRoutes)]
		path = strings.Replace(path, "{id}", itoa(cmd), 1)
		body = bytes.ReplaceAll(body, []byte("@PIN@"), []byte(pin))
		var header []string
		switch auth % 3 {
		case 1:
			header = []string{"Authorization", "Bearer " + probe.Token}
		case 2:
			header = []string{"Authorization", "Bearer " + strings.Repeat("ab", 32)}
		}
		ctx := context.Background()
		held := heldPoll(path, body)
		if held {
			// A long poll is held up to the wait it asks for (30 s at most); cutting it short
			// bounds what one input costs. Not an assertion: a poll may answer or be cut.
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
		}
		res, err := fuzzDo(ctx, hc, "POST", ts.URL+path, body, header...)
		if held && errors.Is(err, context.DeadlineExceeded) {
			return
		}
		if err != nil {
			t.Fatalf("POST %s %q: %v", path, body, err)
		}
		checkFuzzAnswer(t, "POST "+path, res)

		// The server still serves a well-formed call.
		ok, err := fuzzDo(context.Background(), hc, "POST", ts.URL+"/api/client/heartbeat",
			[]byte(`{"machine_id":"FZ-1","full_update":false,"system_info":{"cpu_usage":1}}`), "Authorization", "Bearer "+probe.Token)
		if err != nil || ok.Status != 200 {
			t.Fatalf("a valid heartbeat after POST %s %q: %v %d %s", path, body, err, ok.Status, ok.Raw)
		}
	})
}

// heldPoll tells whether a body asks a poll route to wait.
func heldPoll(path string, body []byte) bool {
	var req wire.PollRequest
	return (path == "/api/client/commands" || path == "/api/client/command") &&
		json.Unmarshal(body, &req) == nil && req.Wait > 0
}
