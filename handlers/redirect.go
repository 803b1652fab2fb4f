package handlers

import (
	"net/url"
	"strings"
)

// localTarget is target when it is a path on this site, else "/": every redirect to a target a
// caller chose goes through here. Browsers forgive a lot in a Location: they drop tabs and line
// breaks, read "\" as "/", and a proxy may decode "%2f" before routing, so "/\t/evil.example" or
// "/%2f/evil.example" can leave the site. Only a path that starts with exactly one "/" and has
// no control character or backslash survives, checked again after each level of
// percent-decoding of its path.
func localTarget(target string) string {
	if strings.ContainsFunc(target, unsafeInLocation) {
		return "/"
	}
	path := target
	if i := strings.IndexAny(target, "?#"); i >= 0 {
		path = target[:i]
	}
	// Three levels are more than any page of ours needs.
	for range 3 {
		if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "//") || strings.ContainsFunc(path, unsafeInLocation) {
			return "/"
		}
		decoded, err := url.PathUnescape(path)
		if err != nil {
			return "/"
		}
		if decoded == path {
			return target
		}
		path = decoded
	}
	return "/"
}

// unsafeInLocation reports a control character or a backslash.
func unsafeInLocation(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }
