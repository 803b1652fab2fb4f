package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/wcms-lab/wcms/wire"
)

// pollTimeout bounds one poll on a steady agent's connection.
const pollTimeout = 30 * time.Second

// pollConn is a steady agent's own keep-alive connection to the server. The steady agents'
// polls are most of what the load generator does, and it shares the machine with the server:
// net/http's client spent more CPU on its two goroutines per connection than on the requests.
// Here the agent's goroutine writes the request and reads the answer itself, parsed by
// net/http's ReadResponse, so the server sees the same HTTP/1.1 as from any client.
type pollConn struct {
	host string // host:port, to dial and for the Host header
	dial dialFunc
	conn net.Conn
	br   *bufio.Reader
	buf  bytes.Buffer // the request being written
}

// poll sends one cycle of the agent's requests (pattern.requests) and returns the command the
// poll brings, if any.
func (p *pollConn) poll(ctx context.Context, reqs []request) (*wire.Command, error) {
	var cmd *wire.Command
	for _, r := range reqs {
		// A heartbeat's answer has no data: decoded as a poll's, it brings no command.
		var out wire.PollResponse
		if err := p.post(ctx, r, &out); err != nil {
			return nil, err
		}
		cmd = cmp.Or(cmd, out.Data.Command)
	}
	return cmd, nil
}

// post sends one request and decodes a 2xx answer into out.
func (p *pollConn) post(ctx context.Context, r request, out any) error {
	if p.conn == nil {
		if err := p.connect(ctx); err != nil {
			return err
		}
	}
	p.buf.Reset()
	fmt.Fprintf(&p.buf, "POST %s HTTP/1.1\r\nHost: %s\r\n%sContent-Length: %d\r\n\r\n", r.path, p.host, r.head, len(r.body))
	p.buf.Write(r.body)
	res, data, err := p.roundTrip(ctx)
	if err != nil {
		p.close() // a broken or half-read connection is not reused
		return err
	}
	if res.Close {
		p.close()
	}
	return decodeAnswer(res.StatusCode, data, out)
}

func (p *pollConn) roundTrip(ctx context.Context) (*http.Response, []byte, error) {
	deadline := time.Now().Add(pollTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := p.conn.SetDeadline(deadline); err != nil {
		return nil, nil, err
	}
	// The run's end cuts a poll in flight short.
	c := p.conn
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()
	if _, err := p.conn.Write(p.buf.Bytes()); err != nil {
		return nil, nil, err
	}
	res, err := http.ReadResponse(p.br, nil)
	if err != nil {
		return nil, nil, err
	}
	data, err := io.ReadAll(res.Body)
	res.Body.Close()
	return res, data, err
}

func (p *pollConn) connect(ctx context.Context) error {
	c, err := p.dial(ctx, "tcp", p.host)
	if err != nil {
		return err
	}
	p.conn = c
	if p.br == nil {
		p.br = bufio.NewReaderSize(p.conn, 4<<10)
	} else {
		p.br.Reset(p.conn)
	}
	return nil
}

func (p *pollConn) close() {
	if p.conn != nil {
		p.conn.Close()
		p.conn = nil
	}
}
