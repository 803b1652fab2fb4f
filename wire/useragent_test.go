package wire

import (
	"strings"
	"testing"
)

// The server reads back the version the agent writes, and nothing else.
func TestAgentVersion(t *testing.T) {
	for ua, want := range map[string]string{
		UserAgent("1.2.3", "windows", "amd64"):         "1.2.3",
		UserAgent("0.9.0-e2e+dirty", "linux", "arm64"): "0.9.0-e2e+dirty",
		"python-requests/2.31.0":                       AgentCompatible,
		"":                                             AgentCompatible,
		"wcms-agent/<img src=x> (x; y)":                AgentCompatible,
		"wcms-agent/" + strings.Repeat("9", 33) + " (x; y)": AgentCompatible,
		"xwcms-agent/1.0 (x; y)":                            AgentCompatible,
	} {
		if got := AgentVersion(ua); got != want {
			t.Errorf("%q: %q, want %q", ua, got, want)
		}
	}
}
