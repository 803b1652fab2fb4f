package execute

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/wcms-lab/wcms/wire"
)

// waker sends Wake-on-LAN magic packets for other PCs: a PC that is off hears nothing from the
// server, but its network card listens on its own subnet, where this PC is.
type waker struct {
	// ports are where magic packets go: 9 (discard) and 7 (echo), the ports network cards and the
	// usual tools listen on.
	ports []int
	// everyone is the limited broadcast, sent as well as the subnet's own: a router drops a
	// directed broadcast from elsewhere, and a switch passes this one to every port.
	everyone string
}

// broadcaster is a UDP socket that may send to broadcast addresses: Go's net package sets
// SO_BROADCAST on every UDP socket (TestBroadcasterMayBroadcast checks that it still does).
func broadcaster(ctx context.Context) (net.PacketConn, error) {
	var lc net.ListenConfig
	return lc.ListenPacket(ctx, "udp4", ":0")
}

// magicPacket is six bytes of 0xFF, then the MAC sixteen times.
func magicPacket(mac net.HardwareAddr) []byte {
	p := make([]byte, 0, 6+16*6)
	for range 6 {
		p = append(p, 0xFF)
	}
	for range 16 {
		p = append(p, mac...)
	}
	return p
}

// wake sends each MAC's magic packet to the subnet's broadcast address and to everyone, on each
// port.
func (w waker) wake(ctx context.Context, macs, broadcast string) Result {
	conn, err := broadcaster(ctx)
	if err != nil {
		return failed(fmt.Errorf("wake_on_lan: %w", err))
	}
	defer conn.Close()
	var sent []string
	for _, m := range strings.Split(macs, ",") {
		mac, err := net.ParseMAC(strings.TrimSpace(m))
		if err != nil {
			return failed(fmt.Errorf("wake_on_lan: %w", err))
		}
		packet := magicPacket(mac)
		for _, host := range []string{broadcast, w.everyone} {
			for _, port := range w.ports {
				to, err := net.ResolveUDPAddr("udp4", net.JoinHostPort(host, strconv.Itoa(port)))
				if err == nil {
					_, err = conn.WriteTo(packet, to)
				}
				if err != nil {
					return failed(fmt.Errorf("wake_on_lan %s to %s:%d: %w", mac, host, port, err))
				}
			}
		}
		sent = append(sent, mac.String())
	}
	return Result{Status: wire.ResultSuccess, Output: fmt.Sprintf("magic packets sent for %s to %s and %s, ports %v",
		strings.Join(sent, ", "), broadcast, w.everyone, w.ports)}
}
