package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wcms-lab/wcms/wire"
)

const commandPrefix = "loadgen "

// sendCommands sends a message command at rate per second to random long-poll agents until
// stop, remembering when each was sent. The message carries a sequence number because the
// agent can receive the command before the admin's request has returned its id.
func (g *loadgen) sendCommands(ctx context.Context, admin *session, rate float64, stop time.Time) {
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	for seq := int64(1); ; seq++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if !time.Now().Before(stop) {
			return
		}
		a := g.longPollers[rand.N(len(g.longPollers))]
		sent := time.Now()
		g.cmdMu.Lock()
		g.cmdSent[seq] = sent
		g.cmdMu.Unlock()
		in := map[string]any{"type": wire.TypeMessage, "parameters": map[string]any{"message": commandPrefix + strconv.FormatInt(seq, 10)}}
		err := admin.call(ctx, http.MethodPost, fmt.Sprintf("/api/admin/pc/%d/command", a.pcID), in, nil)
		if err != nil {
			g.countError(ctx, err)
			g.cmdMu.Lock()
			delete(g.cmdSent, seq)
			g.cmdMu.Unlock()
			continue
		}
		if g.inWindow(sent) {
			g.cmdsSent.Add(1)
		}
	}
}

// commandArrived records the delivery of one of our commands.
func (g *loadgen) commandArrived(c *wire.Command, at time.Time) {
	msg, _ := c.Parameters["message"].(string)
	seq, err := strconv.ParseInt(strings.TrimPrefix(msg, commandPrefix), 10, 64)
	if err != nil {
		g.errs.add("foreign_command")
		return
	}
	g.cmdMu.Lock()
	sent, ok := g.cmdSent[seq]
	delete(g.cmdSent, seq)
	g.cmdMu.Unlock()
	if !ok {
		g.errs.add("duplicate_command")
		return
	}
	if g.inWindow(sent) {
		g.cmdLatency.record(at.Sub(sent))
	}
}
