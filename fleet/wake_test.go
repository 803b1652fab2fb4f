package fleet

import (
	"net/netip"
	"testing"
)

func TestSubnetAndBroadcast(t *testing.T) {
	for in, want := range map[string]string{"192.168.10.23/24": "192.168.10.255", "10.1.2.3/16": "10.1.255.255",
		"172.16.5.9/30": "172.16.5.11", "10.0.0.7/32": "10.0.0.7"} {
		p, ok := subnetOf(in)
		if !ok || broadcastOf(p) != netip.MustParseAddr(want) {
			t.Errorf("%s: subnet %v (%v), broadcast %v; want %s", in, p, ok, broadcastOf(p), want)
		}
	}
	for _, bad := range []string{"", "fe80::1/64", "10.0.0.1", "x"} {
		if _, ok := subnetOf(bad); ok {
			t.Errorf("%q taken as a subnet", bad)
		}
	}
}
