package execute

import (
	"context"
	"net"
	"syscall"
	"testing"
)

// The wake socket may send to 255.255.255.255: Linux refuses that without SO_BROADCAST, which
// Go's net package sets on UDP sockets; a test cannot send there without reaching the network.
func TestBroadcasterMayBroadcast(t *testing.T) {
	conn, err := broadcaster(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	raw, err := conn.(*net.UDPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var on int
	var gerr error
	if err := raw.Control(func(fd uintptr) { on, gerr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_BROADCAST) }); err != nil || gerr != nil {
		t.Fatal(err, gerr)
	}
	if on != 1 {
		t.Fatal("the wake socket has no SO_BROADCAST")
	}
}
