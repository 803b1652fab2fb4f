package wire

import (
	"fmt"
	"regexp"
)

// AgentCompatible is the agent version of a caller that is not WCMS's own agent: one of the
// published clients, which the contract keeps working.
const AgentCompatible = "compatible"

// UserAgent is the User-Agent WCMS's agent sends, which the server reads its version from.
func UserAgent(version, goos, goarch string) string {
	return fmt.Sprintf("wcms-agent/%s (%s; %s)", version, goos, goarch)
}

var agentUA = regexp.MustCompile(`^wcms-agent/([0-9A-Za-z.+-]{1,32}) \(`)

// AgentVersion is the version in a User-Agent made by UserAgent, AgentCompatible for any
// other. A student can send any User-Agent: only a bounded version of safe characters is taken.
func AgentVersion(userAgent string) string {
	if m := agentUA.FindStringSubmatch(userAgent); m != nil {
		return m[1]
	}
	return AgentCompatible
}
