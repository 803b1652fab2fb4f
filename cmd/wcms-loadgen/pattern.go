package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/wcms-lab/wcms/wire"
)

// pattern is what a steady agent sends every 2 s (-pattern), byte for byte, so that the wire
// count of each is what such an agent costs.
type pattern string

const (
	// patternSteady is the poll with the nested light heartbeat, no wait and only the headers the
	// server needs: the load the other figures are measured under.
	patternSteady pattern = "steady"
	// patternAgent is our agent's poll (agent/agent.go pollLoop and pollOnce, agent/client.go do):
	// its headers, a 64-digit machine id, instance_id and wait: 2, so that the server holds each
	// poll for 2 s and the agent polls again at once.
	patternAgent pattern = "agent"
	// patternPublished is the published client 0.8.6 (the seed document's section 4): the flat
	// light heartbeat on the poll, the full heartbeat in its own POST /api/client/heartbeat,
	// python-requests' headers and JSON, no token (the server needs -legacy-clients).
	patternPublished pattern = "published"
)

func parsePattern(s string) (pattern, error) {
	switch p := pattern(s); p {
	case patternSteady, patternAgent, patternPublished:
		return p, nil
	}
	return "", fmt.Errorf("-pattern %q: want steady, agent or published", s)
}

// waits says whether the server holds the pattern's polls (our long-poll addition).
func (p pattern) waits() bool { return p == patternAgent }

// machineID is the machine id an agent of the pattern sends for the load generator's id: ours
// sends 64 hex digits (agent/collect hashID).
func (p pattern) machineID(id string) string {
	if p != patternAgent {
		return id
	}
	return hexDigest(id, 32)
}

// instanceID is what our agent sends as instance_id for the load generator's id: 32 hex digits
// (agent/collect Identity.InstanceID).
func instanceID(id string) string { return hexDigest("instance "+id, 16) }

// hexDigest is n bytes of s's SHA-256 in upper-case hex, as our agent writes its ids.
func hexDigest(s string, n int) string {
	sum := sha256.Sum256([]byte(s))
	return strings.ToUpper(hex.EncodeToString(sum[:n]))
}

// request is one HTTP request of a pattern.
type request struct {
	path string
	head string // header lines but Host and Content-Length, each ending in CRLF
	body []byte
}

// agentVersion is the version our simulated agent's User-Agent names.
const agentVersion = "0.9.0"

// pythonRequestsHead is what the requests library sends with every call (requests.post).
const pythonRequestsHead = "User-Agent: python-requests/2.32.3\r\nAccept-Encoding: gzip, deflate\r\nAccept: */*\r\n" +
	"Connection: keep-alive\r\nContent-Type: application/json\r\n"

// requests is what a's cycle sends: the poll, and for the published client on a full cycle
// its separate full heartbeat after it.
func (p pattern) requests(a *agent, cpu float64, full bool) []request {
	const poll = "/api/client/commands"
	switch p {
	case patternAgent:
		// agent/client.go sets User-Agent, Authorization and Content-Type, and turns off the
		// transport's Accept-Encoding; agent/agent.go pollOnce sends a light heartbeat flat.
		head := "User-Agent: " + wire.UserAgent(agentVersion, "windows", "amd64") + "\r\n" +
			"Authorization: Bearer " + a.token + "\r\nContent-Type: application/json\r\n"
		hb := a.heartbeat(cpu, full)
		if !full {
			hb = a.flatHeartbeat(cpu)
		}
		return []request{{poll, head, mustJSON(wire.PollRequest{MachineID: a.machineID, Heartbeat: hb,
			Wait: longPollWait, InstanceID: a.instanceID})}}
	case patternPublished:
		out := []request{{poll, pythonRequestsHead, pythonJSON(wire.PollRequest{MachineID: a.machineID, Heartbeat: a.flatHeartbeat(cpu)})}}
		if full {
			hb := a.heartbeat(cpu, true)
			out = append(out, request{"/api/client/heartbeat", pythonRequestsHead, pythonJSON(wire.HeartbeatRequest{
				MachineID: a.machineID, FullUpdate: hb.FullUpdate, SystemInfo: hb.SystemInfo})})
		}
		return out
	}
	head := "Authorization: Bearer " + a.token + "\r\nContent-Type: application/json\r\n"
	return []request{{poll, head, mustJSON(wire.PollRequest{MachineID: a.machineID, Heartbeat: a.heartbeat(cpu, full)})}}
}

// mustJSON marshals the load generator's own wire structs, which always marshal.
func mustJSON(v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return data
}

// pythonJSON is v as Python's json.dumps writes it, and so the requests library sends it: a
// space after every ':' and ',' outside strings.
func pythonJSON(v any) []byte {
	data := mustJSON(v)
	out := make([]byte, 0, len(data)+len(data)/4)
	inString, escaped := false, false
	for _, b := range data {
		out = append(out, b)
		switch {
		case escaped:
			escaped = false
		case inString && b == '\\':
			escaped = true
		case b == '"':
			inString = !inString
		case !inString && (b == ':' || b == ','):
			out = append(out, ' ')
		}
	}
	return out
}
