package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
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

// poll posts one poll for a and returns the command it brings, if any.
func (p *pollConn) poll(ctx context.Context, a *agent, hb *wire.PollHeartbeat) (*wire.Command, error) {
	body, err := json.Marshal(wire.PollRequest{MachineID: a.machineID, Heartbeat: hb})
	if err != nil {
		return nil, err
	}
	if p.conn == nil {
		if err := p.connect(ctx); err != nil {
			return nil, err
		}
	}
	p.buf.Reset()
	fmt.Fprintf(&p.buf, "POST /api/client/commands HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n", p.host, a.token, len(body))
	p.buf.Write(body)
	res, data, err := p.roundTrip(ctx)
	if err != nil {
		p.close() // a broken or half-read connection is not reused
		return nil, err
	}
	if res.Close {
		p.close()
	}
	var out wire.PollResponse
	if err := decodeAnswer(res.StatusCode, data, &out); err != nil {
		return nil, err
	}
	return out.Data.Command, nil
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
