package main

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// Latency is one measured latency's figures, in milliseconds.
type Latency struct {
	Count uint64  `json:"count"`
	P50   float64 `json:"p50_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

// Report is what a run measured. Errors cover the whole run, warm-up included; everything else
// only the measuring window.
type Report struct {
	Agents          int     `json:"agents"`
	LongPollAgents  int     `json:"longpoll_agents"`
	Subscribers     int     `json:"subscribers"`
	WarmupSeconds   float64 `json:"warmup_s"`
	DurationSeconds float64 `json:"duration_s"`

	PollsOffered  float64 `json:"polls_per_s_offered"`
	PollsAchieved float64 `json:"polls_per_s_achieved"`
	Poll          Latency `json:"poll_latency"`

	Errors     map[string]int64 `json:"errors"`
	ErrorTotal int64            `json:"error_total"`

	HeartbeatToSSE  Latency `json:"heartbeat_to_sse"`
	SSEExpected     int64   `json:"heartbeat_to_sse_expected"`
	SSEMissed       int64   `json:"heartbeat_to_sse_missed"`
	CommandDelivery Latency `json:"command_delivery"`
	CommandsSent    int64   `json:"commands_sent"`

	ServerCPUCores  float64 `json:"server_cpu_cores"`
	ServerPeakRSSMB float64 `json:"server_peak_rss_mb"`
	KBPerAgentHour  float64 `json:"kb_per_agent_hour"`
	// LoadgenCPUCores is this program's own CPU: on a shared machine it is taken from the server.
	LoadgenCPUCores float64 `json:"loadgen_cpu_cores"`
}

// fill adds the load's own figures to rep, once the load has stopped.
func (g *loadgen) fill(rep *Report, cfg config) {
	rep.Agents, rep.LongPollAgents, rep.Subscribers = cfg.Agents, cfg.LongPollAgents, cfg.Subscribers
	rep.WarmupSeconds, rep.DurationSeconds = cfg.Warmup.Seconds(), cfg.Duration.Seconds()
	rep.PollsOffered = float64(cfg.Agents) / pollInterval.Seconds()
	rep.Poll = g.pollLatency.summary()
	rep.PollsAchieved = float64(rep.Poll.Count) / cfg.Duration.Seconds()
	rep.Errors, rep.ErrorTotal = g.errs.snapshot()
	rep.HeartbeatToSSE = g.sseLatency.summary()
	rep.SSEExpected, rep.SSEMissed = g.markers.expected, g.markers.missed
	rep.CommandDelivery = g.cmdLatency.summary()
	rep.CommandsSent = g.cmdsSent.Load()
}

func (r *Report) writeTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(name, format string, args ...any) {
		fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{name}, args...)...)
	}
	lat := func(name string, l Latency) {
		row(name, "p50 %.2f ms\tp99 %.2f ms\tmax %.2f ms\t(%d samples)", l.P50, l.P99, l.Max, l.Count)
	}
	row("agents", "%d steady + %d long-poll, %d subscribers", r.Agents, r.LongPollAgents, r.Subscribers)
	row("window", "%.0f s after %.0f s warm-up", r.DurationSeconds, r.WarmupSeconds)
	row("polls/s", "%.0f achieved of %.0f offered", r.PollsAchieved, r.PollsOffered)
	lat("poll latency", r.Poll)
	errs := "0"
	if r.ErrorTotal > 0 {
		errs = fmt.Sprint(r.ErrorTotal, ":")
		for _, k := range sortedKeys(r.Errors) {
			errs += fmt.Sprintf(" %s=%d", k, r.Errors[k])
		}
	}
	row("errors", "%s", errs)
	lat("heartbeat→SSE", r.HeartbeatToSSE)
	row("", "%d expected, %d missed", r.SSEExpected, r.SSEMissed)
	lat("command delivery", r.CommandDelivery)
	row("", "%d sent", r.CommandsSent)
	row("server CPU", "%.2f cores", r.ServerCPUCores)
	row("server peak RSS", "%.1f MB", r.ServerPeakRSSMB)
	row("load generator CPU", "%.2f cores", r.LoadgenCPUCores)
	row("wire per agent", "%.0f KB/hour", r.KBPerAgentHour)
	return tw.Flush()
}
