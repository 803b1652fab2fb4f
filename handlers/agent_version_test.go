package handlers_test

import (
	"strings"
	"testing"
)

// A PC's agent version comes from its User-Agent at registration and at each full heartbeat,
// and shows on its page and its tile; another client (the published ones) shows as compatible,
// and a forged User-Agent cannot put markup or a long string there.
func TestAgentVersionPerPC(t *testing.T) {
	ts := newTestServer(t)
	a := ts.admin()
	ag := ts.register(ts.pin(a, "single"), "AGENT-V") // Go's own User-Agent: not our agent
	shown := func() (page, tile string) {
		t.Helper()
		doc := htmlDoc(t, a.page("/pc/"+itoa(ag.PCID), false).must(t, 200))
		room := htmlDoc(t, a.page("/?room=", false).must(t, 200))
		return textOf(byTestID(t, doc, "spec-agent")), attr(byTestID(t, room, "tile"), "title")
	}
	if page, tile := shown(); page != "0.8.6 호환 클라이언트" || !strings.Contains(tile, "0.8.6 호환 클라이언트") {
		t.Errorf("a client not ours: page %q, tile %q", page, tile)
	}
	full := func(ua string) {
		t.Helper()
		ts.do(nil, "POST", "/api/client/heartbeat", map[string]any{"machine_id": ag.MachineID, "full_update": true,
			"system_info": map[string]any{"cpu_usage": 5.0}}, "Authorization", "Bearer "+ag.Token, "User-Agent", ua).must(t, 200)
	}
	full("wcms-agent/2.1.0 (windows; amd64)")
	if page, tile := shown(); page != "2.1.0" || !strings.Contains(tile, "에이전트 2.1.0") {
		t.Errorf("after wcms-agent/2.1.0: page %q, tile %q", page, tile)
	}
	ts.do(nil, "POST", "/api/client/heartbeat", map[string]any{"machine_id": ag.MachineID, "full_update": false,
		"system_info": map[string]any{"cpu_usage": 5.0}}, "Authorization", "Bearer "+ag.Token, "User-Agent", "wcms-agent/9.9.9 (x; y)").must(t, 200)
	if page, _ := shown(); page != "2.1.0" {
		t.Errorf("a light heartbeat changed the version to %q (it is the hot path: nothing is stored)", page)
	}
	doc := htmlDoc(t, a.page("/agents", false).must(t, 200))
	if got := textsOf(doc, "room-agent-version"); len(got) != 1 || got[0] != "2.1.0 1대" {
		t.Errorf("the agents page by room: %q", got)
	}
	full("wcms-agent/<img src=x onerror=alert(1)> (x; y)")
	if page, _ := shown(); page != "0.8.6 호환 클라이언트" {
		t.Errorf("a forged User-Agent shows as %q", page)
	}
}
