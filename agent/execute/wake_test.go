package execute

import (
	"bytes"
	"context"
	"net"
	"testing"
	"time"

	"github.com/wcms-lab/wcms/wire"
)

// Real magic packets, caught by UDP listeners: for each MAC, 6 × 0xFF then the MAC 16 times, to
// the subnet's broadcast address and to everyone, on each port. The test's "subnet" is loopback:
// 127.0.0.1 stands for the directed broadcast and 127.255.255.255 for everyone (a broadcast the
// test controls; the real ones are the subnet's and 255.255.255.255, on ports 9 and 7).
func TestWakeSendsMagicPackets(t *testing.T) {
	var ports []int
	var conns []net.PacketConn
	for range 2 {
		c, err := net.ListenPacket("udp4", "0.0.0.0:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
		ports = append(ports, c.LocalAddr().(*net.UDPAddr).Port)
	}
	w := waker{ports: ports, everyone: "127.255.255.255"}
	res := w.wake(context.Background(), "00:1a:2b:3c:4d:5e, AA-BB-CC-DD-EE-FF", "127.0.0.1")
	if res.Status != wire.ResultSuccess {
		t.Fatalf("wake: %+v", res)
	}
	want := map[string]int{}
	for _, mac := range []string{"00:1a:2b:3c:4d:5e", "aa:bb:cc:dd:ee:ff"} {
		hw, _ := net.ParseMAC(mac)
		want[string(magicPacket(hw))] = 2 // to both hosts
	}
	for i, c := range conns {
		got := map[string]int{}
		buf := make([]byte, 2048)
		for range 4 {
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			n, _, err := c.ReadFrom(buf)
			if err != nil {
				t.Fatalf("port %d: %v (got %d packets)", ports[i], err, len(got))
			}
			got[string(buf[:n])]++
		}
		for p, k := range want {
			if got[p] != k {
				t.Errorf("port %d: %d copies of a magic packet, want %d", ports[i], got[p], k)
			}
		}
	}
	hw, _ := net.ParseMAC("00:1a:2b:3c:4d:5e")
	p := magicPacket(hw)
	if len(p) != 102 || !bytes.Equal(p[:6], bytes.Repeat([]byte{0xFF}, 6)) || !bytes.Equal(p[96:], hw) {
		t.Fatalf("magic packet % x", p)
	}
}
