package handlers_test

import "syscall"

func init() {
	// Set before connecting, so the window the kernel advertises is small from the start.
	smallReceiveBuffer = func(_, _ string, c syscall.RawConn) error {
		var err error
		if cerr := c.Control(func(fd uintptr) {
			err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4<<10)
		}); cerr != nil {
			return cerr
		}
		return err
	}
}
