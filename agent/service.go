package agent

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/kardianos/service"
)

// ServiceName is the Windows service and systemd unit name.
const ServiceName = "WCMS-Agent"

// systemdUnit replaces kardianos' default unit, whose RestartSec=120 would leave a PC dark for
// two minutes after a crash or a self-update. The syntax is kardianos' small template language.
const systemdUnit = `[Unit]
Description={{Description}}
ConditionFileIsExecutable={{Path | cmdEscape}}
After=network-online.target
Wants=network-online.target
StartLimitIntervalSec=0

[Service]
ExecStart={{Path | cmdEscape}}{{range Arguments}} {{. | cmd}}{{end}}
Restart=always
RestartSec=5
TimeoutStopSec=20

[Install]
WantedBy=multi-user.target
`

// Start is how Windows starts the service at boot.
type Start int

const (
	DelayedStart   Start = iota // once logon has settled; some Windows versions (and Wine) refuse it
	AutomaticStart              // at once
)

// ServiceConfig describes the agent's service: LocalSystem on Windows (the default account),
// automatic delayed start so it does not compete with logon, restarted 5 s after any failure;
// a systemd unit with the same restart policy on Linux.
func ServiceConfig(dataDir string, start Start) *service.Config {
	return &service.Config{
		Name:        ServiceName,
		DisplayName: "WCMS Agent",
		Description: "Reports this PC to the WCMS server and runs the commands its admins send.",
		Arguments:   []string{"run", "-data", dataDir},
		Option: service.KeyValue{
			"StartType":              "automatic",
			"DelayedAutoStart":       start == DelayedStart,
			"OnFailure":              "restart",
			"OnFailureDelayDuration": "5s",
			"OnFailureResetPeriod":   86400,
			"SystemdScript":          systemdUnit,
		},
	}
}

// Program runs an agent under kardianos/service, in the foreground or as a service.
type Program struct {
	Run  func(ctx context.Context) error
	Exit func(err error) // called when Run ends by itself (a restart for an update, a fatal error)
	Log  *slog.Logger

	cancel   context.CancelFunc
	done     chan struct{}
	stopping atomic.Bool
}

// Start begins the agent without blocking, as the service manager requires.
func (p *Program) Start(service.Service) error {
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel, p.done = cancel, make(chan struct{})
	go func() {
		err := p.Run(ctx)
		close(p.done)
		if !p.stopping.Load() {
			p.Exit(err)
		}
	}()
	return nil
}

// Stop ends the agent, giving it a few seconds to tell the server and spool what is running.
func (p *Program) Stop(service.Service) error {
	p.stopping.Store(true)
	p.cancel()
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		p.Log.Warn("agent did not stop within 15 s")
	}
	return nil
}

// Shutdown is the Windows "system is shutting down" notice: the same as Stop.
func (p *Program) Shutdown(s service.Service) error { return p.Stop(s) }

// IsRestart tells whether err asks for a restart.
func IsRestart(err error) bool { return errors.Is(err, ErrRestart) }
