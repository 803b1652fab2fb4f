package handlers

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wcms-lab/wcms/agentbuilds"
	"github.com/wcms-lab/wcms/fleet"
	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/wire"
)

// bearer returns the agent token of the request, if any.
func bearer(c echo.Context) string {
	h := c.Request().Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "Bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// caller is what the request tells of the agent that sends it.
func caller(c echo.Context, machineID, instance string) fleet.Caller {
	return fleet.Caller{MachineID: machineID, Token: bearer(c), Instance: instance, Addr: c.RealIP()}
}

// identify finds the calling PC by machine_id and checks its agent token.
func (s *Server) identify(c echo.Context, machineID, instance string) (int64, error) {
	if err := required("machine_id", machineID); err != nil {
		return 0, err
	}
	id, err := s.fleet.Identify(c.Request().Context(), caller(c, machineID, instance), s.cfg.LegacyClients)
	if errors.Is(err, fleet.ErrUnknownPC) {
		return 0, newError(http.StatusNotFound, wire.CodePCNotFound, "등록되지 않은 PC입니다: %s", "PC not registered: %s", machineID)
	}
	return id, err
}

// clientVersion tells an agent the newest build for its platform (?os=&arch=; by default
// windows/amd64, what the published client runs on), with its SHA-256. With no build for the
// platform it answers as before builds were kept, so the published client still gets a valid
// answer.
func (s *Server) clientVersion(c echo.Context) error {
	goos, arch := c.QueryParam("os"), c.QueryParam("arch")
	if goos == "" {
		goos = "windows"
	}
	if arch == "" {
		arch = "amd64"
	}
	if err := agentbuilds.CheckPlatform(goos, arch); err != nil {
		return badRequest(codeInvalidField, "받을 수 있는 운영체제와 아키텍처가 아닙니다 (%v)", "%v", err)
	}
	b, err := s.store.NewestAgentBuild(c.Request().Context(), goos, arch)
	if errors.Is(err, models.ErrNotFound) {
		return c.JSON(http.StatusOK, wire.VersionResponse{Status: "success", Version: s.cfg.Version,
			DownloadURL: s.baseURL(c) + "/download/wcms-agent.exe", Changelog: "WCMS agent " + s.cfg.Version})
	}
	if err != nil {
		return err
	}
	changelog := b.Changelog
	if changelog == "" {
		changelog = "WCMS agent " + b.Version
	}
	return c.JSON(http.StatusOK, wire.VersionResponse{Status: "success", Version: b.Version,
		DownloadURL: buildURL(s.baseURL(c), b), Changelog: changelog, SHA256: b.SHA256})
}

// agentVersion is the calling agent's version (wire.AgentVersion).
func agentVersion(c echo.Context) string { return wire.AgentVersion(c.Request().UserAgent()) }

var hostPattern = regexp.MustCompile(`^[A-Za-z0-9.\-\[\]:]+$`)

// baseURL is the configured public URL, or one built from the request with a host that can
// only be a host name, so a forged Host header cannot inject anything into links or install
// scripts.
func (s *Server) baseURL(c echo.Context) string {
	if s.cfg.PublicURL != "" {
		return strings.TrimRight(s.cfg.PublicURL, "/")
	}
	host := c.Request().Host
	if !hostPattern.MatchString(host) {
		host = "localhost"
	}
	scheme := "http" // echo also reports ws and wss from a proxy's headers
	if c.Scheme() == "https" {
		scheme = "https"
	}
	return scheme + "://" + host
}

// registerPC enrols a PC. A PIN enrols a new PC; an agent that proves its PC's current token
// (Authorization: Bearer) re-registers without one; a PIN for an enrolled PC asks an operator
// (fleet.Register). Failed PINs count against the source address, so the million PINs cannot be
// walked.
func (s *Server) registerPC(c echo.Context) error {
	var req wire.RegisterRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	who := caller(c, req.MachineID, req.InstanceID)
	if who.Token == "" {
		if err := required("pin", req.PIN); err != nil {
			return err
		}
	}
	if err := required("machine_id", req.MachineID, "hostname", req.Hostname, "mac_address", req.MACAddress); err != nil {
		return err
	}
	if err := validateSpecs(&req); err != nil {
		return err
	}
	if req.SystemInfo != nil {
		if err := validateInfo(req.SystemInfo); err != nil {
			return err
		}
	}
	e := fleet.Enrolment{Caller: who, Legacy: s.cfg.LegacyClients,
		PC: &models.PC{MachineID: req.MachineID, Hostname: req.Hostname, MACAddress: req.MACAddress,
			IPAddress: req.IPAddress, CPUModel: req.CPUModel, CPUCores: req.CPUCores, CPUThreads: req.CPUThreads,
			RAMTotal: wire.RAMGB(req.RAMTotal), OSEdition: req.OSEdition, OSVersion: req.OSVersion,
			AgentVersion: agentVersion(c)}}
	for mount, d := range req.DiskInfo {
		e.Disks = append(e.Disks, models.Disk{Mount: mount, TotalGB: &d.TotalGB, FSType: d.FSType})
	}
	var token string
	var err error
	if req.PIN == "" {
		token, err = s.fleet.Register(c.Request().Context(), e)
	} else {
		token, err = s.registerWithPIN(c.Request().Context(), e, req.PIN)
	}
	if err != nil {
		return err
	}
	s.metrics.registrations.Inc()
	if req.SystemInfo != nil {
		// The published client sends its first full state with the registration.
		if _, err := s.fleet.Heartbeat(c.Request().Context(), e.PC.ID, fleet.Beat{Info: req.SystemInfo, Full: true, Agent: agentVersion(c)}); err != nil {
			return err
		}
	}
	return c.JSON(http.StatusOK, wire.RegisterResponse{Status: "success", Message: "Registration successful",
		PCID: e.PC.ID, AgentToken: token})
}

// registerWithPIN checks the PIN and registers, in the caller's address's turn (takeTurn): one
// PIN check per address at a time, on every instance, so guesses in flight at once cannot pass
// the limit before any of them is counted, while right PINs that arrive together only wait.
func (s *Server) registerWithPIN(ctx context.Context, e fleet.Enrolment, pin string) (string, error) {
	addr := e.Caller.Addr
	done, err := s.takeTurn(ctx, s.pinFailures.key(addr))
	if err != nil {
		return "", err
	}
	defer done()
	now := time.Now()
	ok, retry, err := s.pinFailures.allow(ctx, addr, now)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", tooMany(retry, "이 주소에서 틀린 PIN이 너무 많습니다. %s 뒤에 다시 시도하세요.", "too many wrong PINs from this address; try again in %s",
			retry.Round(time.Second))
	}
	var token string
	err = models.ErrPINInvalid
	if wire.IsPIN(pin) {
		e.PINHash = s.pins.Hash(pin)
		token, err = s.fleet.Register(ctx, e)
	}
	if errors.Is(err, models.ErrPINInvalid) || errors.Is(err, models.ErrPINUsed) {
		s.log.Info("registration refused", "machine_id", e.PC.MachineID, "addr", addr, "reason", err.Error())
		// A failure that cannot be counted answers 500, not 403: no guess goes uncounted.
		if err := s.pinFailures.fail(ctx, addr, now); err != nil {
			return "", err
		}
	}
	return token, err
}

// heartbeat takes a full or light heartbeat.
func (s *Server) heartbeat(c echo.Context) error {
	var req wire.HeartbeatRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := required("machine_id", req.MachineID); err != nil {
		return err
	}
	if req.SystemInfo == nil {
		return badRequest(codeMissingField, "system_info가 없습니다", "system_info is required")
	}
	if err := validateInfo(req.SystemInfo); err != nil {
		return err
	}
	id, err := s.identify(c, req.MachineID, req.InstanceID)
	if err != nil {
		return err
	}
	full := req.IsFull()
	beat := fleet.Beat{Info: req.SystemInfo, Full: full}
	if full {
		beat.Agent = agentVersion(c)
	}
	changed, err := s.fleet.Heartbeat(c.Request().Context(), id, beat)
	if err != nil {
		return err
	}
	s.countHeartbeat(full)
	return c.JSON(http.StatusOK, wire.HeartbeatResponse{Status: "success", Message: "Heartbeat received", IPChanged: changed})
}

func (s *Server) countHeartbeat(full bool) {
	kind := "light"
	if full {
		kind = "full"
	}
	s.metrics.heartbeats.WithLabelValues(kind).Inc()
}

// maxWait bounds our long-poll addition.
const maxWait = 30 * time.Second

// pollCommands is the documented poll: heartbeat in, at most one command out. With "wait" it
// holds the answer until a command arrives or the wait ends.
func (s *Server) pollCommands(c echo.Context) error {
	var req wire.PollRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Wait < 0 {
		return badRequest(codeInvalidField, "wait은 음수일 수 없습니다", "wait must not be negative")
	}
	var hb fleet.Beat
	if req.Heartbeat != nil {
		hb.Info, hb.Full = req.Heartbeat.Info()
		if err := validateInfo(hb.Info); err != nil {
			return err
		}
	}
	id, err := s.identify(c, req.MachineID, req.InstanceID)
	if err != nil {
		return err
	}
	wait := min(time.Duration(req.Wait*float64(time.Second)), maxWait)
	return s.poll(c, id, hb, wait)
}

// longPollCommands is the 0.9.x agents' GET poll: no heartbeat, held up to timeout seconds.
func (s *Server) longPollCommands(c echo.Context) error {
	timeout := 30
	if t := c.QueryParam("timeout"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 {
			return badRequest(codeInvalidField, "timeout은 초 단위 정수여야 합니다 (받은 값 %q)", "timeout must be a whole number of seconds, not %q", t)
		}
		timeout = min(n, 60)
	}
	id, err := s.identify(c, c.QueryParam("machine_id"), c.QueryParam("instance_id"))
	if err != nil {
		return err
	}
	return s.poll(c, id, fleet.Beat{}, time.Duration(timeout)*time.Second)
}

// poll records the heartbeat, if any, and answers with the PC's next command, waiting up to wait
// for one.
func (s *Server) poll(c echo.Context, id int64, hb fleet.Beat, wait time.Duration) error {
	if ok, retry := s.fleet.AllowPoll(id); !ok {
		return tooMany(retry, "너무 자주 요청합니다: 최소 간격은 2초입니다", "polling too fast: the minimum interval is 2 seconds")
	}
	ctx := c.Request().Context()
	changed, err := s.fleet.Heartbeat(ctx, id, hb)
	if err != nil {
		return err
	}
	if hb.Info != nil {
		s.countHeartbeat(hb.Full)
	}
	asked := time.Now()
	cmd, err := s.fleet.NextCommand(ctx, id, fleet.Caller{Token: bearer(c), Addr: c.RealIP()}, wait)
	if err != nil {
		return err
	}
	if wait > 0 {
		hold(c, asked) // waiting for a command is not the server being slow
	}
	data := wire.PollData{HeartbeatProcessed: hb.Info != nil, IPChanged: changed}
	if cmd != nil {
		wc, err := wireCommand(cmd)
		if err != nil {
			return err
		}
		data.HasCommand, data.Command = true, wc
		setNoStore(c) // its parameters may hold a password (routes.go says why only this answer)
		s.log.Info("command delivered", "command_id", cmd.ID, "pc_id", id, "type", cmd.Type)
	}
	return c.JSON(http.StatusOK, wire.PollResponse{Status: "success", Data: data})
}

// reportResult records a command's result, bound to the PC the command went to: by the agent's
// token, or without one (legacy clients on) by the address it was handed to.
func (s *Server) reportResult(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var req wire.ResultRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	switch req.Status {
	case wire.ResultSuccess, wire.ResultError, wire.ResultTimeout:
	case "":
		return badRequest(codeMissingField, "status가 없습니다", "status is required")
	default:
		return badRequest(codeInvalidField, "status는 success, error, timeout 중 하나여야 합니다 (받은 값 %q)",
			"status must be success, error or timeout, not %q", req.Status)
	}
	rep := models.Reporter{Addr: c.RealIP()}
	if token := bearer(c); token != "" {
		var ok bool
		if rep.PCID, ok = s.fleet.PCOfToken(token); !ok {
			return fleet.ErrBadToken
		}
	} else if !s.cfg.LegacyClients {
		return fleet.ErrTokenRequired
	}
	cmd, err := s.fleet.Result(c.Request().Context(), id, rep, models.Result{Status: req.Status, Output: req.Output,
		ErrorMessage: req.ErrorMessage, ExitCode: req.ExitCode})
	if errors.Is(err, models.ErrNotFound) {
		return newError(http.StatusNotFound, "COMMAND_NOT_FOUND", "명령 %d이(가) 없습니다", "command %d not found", id)
	}
	if err != nil {
		return err
	}
	s.metrics.results.WithLabelValues(req.Status).Inc()
	s.log.Info("command result", "command_id", id, "pc_id", cmd.PCID, "status", cmd.Status)
	return c.JSON(http.StatusOK, wire.ResultResponse{Status: "success", Data: wire.ResultData{
		Message: "Result recorded", CommandID: id, FinalStatus: req.Status}})
}

// agentShutdown: the PC is shutting down; offline at once.
func (s *Server) agentShutdown(c echo.Context) error {
	return s.agentGone(c, models.ReasonShutdown)
}

// agentOffline: a 0.9.x agent is losing its network; offline at once.
func (s *Server) agentOffline(c echo.Context) error {
	return s.agentGone(c, models.ReasonNetworkError)
}

func (s *Server) agentGone(c echo.Context, reason string) error {
	var req wire.MachineRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	id, err := s.identify(c, req.MachineID, "")
	if err != nil {
		return err
	}
	if err := s.fleet.Offline(c.Request().Context(), id, reason); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, success)
}
