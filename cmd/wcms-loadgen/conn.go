package main

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// countingConn adds every byte read and written to a shared counter: the agents' bytes on the
// wire, HTTP headers included (TCP/IP framing is not).
type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (c countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// dialFunc dials TCP; with a counter, the connection adds its bytes to it.
type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

func countingDialer(counter *atomic.Int64) dialFunc {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if counter == nil {
		return d.DialContext
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return countingConn{Conn: c, n: counter}, nil
	}
}

// newTransport returns a keep-alive transport that holds idle connections for conns clients,
// counting their bytes in counter when it is not nil.
func newTransport(conns int, counter *atomic.Int64) *http.Transport {
	return &http.Transport{
		DialContext:         countingDialer(counter),
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
}
