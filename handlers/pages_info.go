package handlers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/views"
)

const (
	// pollRateWindow is the shortest span a poll rate is measured over: page views closer
	// together than this share one measurement rather than divide by almost nothing.
	pollRateWindow = 2 * time.Second
)

// agentsPage lists the agent builds.
func (s *Server) agentsPage(c echo.Context) error {
	return s.renderAgents(c, "")
}

// uploadBuildPage registers an uploaded build, as the API's upload does, and shows the list.
func (s *Server) uploadBuildPage(c echo.Context) error {
	b, err := s.receiveAgentBuild(c)
	if err != nil {
		return err
	}
	return s.renderAgents(c, fmt.Sprintf(views.T(c.Request().Context(),
		"버전 %s (%s/%s)을(를) 등록했습니다.", "Registered version %s (%s/%s)."), b.Version, b.OS, b.Arch))
}

// deleteBuildPage deletes a build, as the API's delete does, and shows the list.
func (s *Server) deleteBuildPage(c echo.Context) error {
	b, err := s.removeAgentBuild(c)
	if err != nil {
		return err
	}
	return s.renderAgents(c, fmt.Sprintf(views.T(c.Request().Context(),
		"버전 %s (%s/%s)을(를) 삭제했습니다.", "Deleted version %s (%s/%s)."), b.Version, b.OS, b.Arch))
}

// renderAgents renders the agents page, or for htmx its body, with a notice of what was done.
func (s *Server) renderAgents(c echo.Context, notice string) error {
	ctx := c.Request().Context()
	bs, err := s.store.ListAgentBuilds(ctx)
	if err != nil {
		return err
	}
	newest, err := s.newestBuilds(ctx, bs)
	if err != nil {
		return err
	}
	v := views.AgentsView{Page: s.page(c, views.T(ctx, "에이전트 버전", "Agent versions"), "agents"), Notice: notice}
	for i := range bs {
		b := &bs[i]
		v.Builds = append(v.Builds, views.BuildRow{ID: b.ID, Version: b.Version, OS: b.OS, Arch: b.Arch,
			SHA256: b.SHA256, Size: b.Size, Changelog: b.Changelog, CreatedBy: b.CreatedBy, CreatedAt: b.CreatedAt,
			DownloadURL: buildURL("", b), Newest: newest[b.ID]})
	}
	v.Rooms = roomAgents(s.fleet.Views(everyPC))
	return s.renderPage(c, views.AgentsPage(v), views.AgentsBody(v))
}

// roomAgents counts the agent versions of each room's PCs, in the fleet's room order.
func roomAgents(pcs []models.PCView) []views.RoomAgents {
	var out []views.RoomAgents
	for i := range pcs {
		room := deref(pcs[i].Room)
		if len(out) == 0 || out[len(out)-1].Room != room {
			out = append(out, views.RoomAgents{Room: room})
		}
		r := &out[len(out)-1]
		j := slices.IndexFunc(r.Versions, func(c views.VersionCount) bool { return c.Version == pcs[i].AgentVersion })
		if j < 0 {
			r.Versions = append(r.Versions, views.VersionCount{Version: pcs[i].AgentVersion})
			j = len(r.Versions) - 1
		}
		r.Versions[j].PCs++
	}
	for i := range out {
		slices.SortStableFunc(out[i].Versions, func(a, b views.VersionCount) int { return b.PCs - a.PCs })
	}
	return out
}

// newestBuilds returns the ids of the builds agents update to: one per platform among bs, as
// the version endpoint chooses it.
func (s *Server) newestBuilds(ctx context.Context, bs []models.AgentBuild) (map[int64]bool, error) {
	newest := map[int64]bool{}
	seen := map[[2]string]bool{}
	for _, b := range bs {
		platform := [2]string{b.OS, b.Arch}
		if seen[platform] {
			continue
		}
		seen[platform] = true
		nb, err := s.store.NewestAgentBuild(ctx, b.OS, b.Arch)
		if errors.Is(err, models.ErrNotFound) {
			continue // deleted since the list was read
		}
		if err != nil {
			return nil, err
		}
		newest[nb.ID] = true
	}
	return newest, nil
}

// statusPage shows the server's and the fleet's numbers; htmx fetches the numbers alone.
func (s *Server) statusPage(c echo.Context) error {
	ctx := c.Request().Context()
	st := s.fleet.Stats()
	size, err := s.store.SizeBytes(ctx)
	if err != nil {
		return fmt.Errorf("status page: database size: %w", err)
	}
	builds, err := s.store.ListAgentBuilds(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	perSecond, window := s.pollRate.observe(st.Polls, now)
	instances, err := s.instanceRows(ctx, now)
	if err != nil {
		return err
	}
	v := views.StatusView{Page: s.page(c, views.T(ctx, "시스템 상태", "System status"), "status"), Warning: s.installWarning(c),
		Status: views.ServerStatus{Version: s.cfg.Version, Uptime: time.Since(s.started),
			PCs: st.PCs, Online: st.Online, Offline: st.PCs - st.Online,
			PollsPerSecond: perSecond, PollWindow: window, Pending: st.Pending,
			Subscribers: s.hub.Subscribers(), DatabaseBytes: size, LegacyClients: s.cfg.LegacyClients,
			Builds: len(builds), Instances: instances}}
	return s.renderPage(c, views.StatusPage(v), views.StatusNumbers(v.Status))
}

// pollRate turns the fleet's poll counter into polls per second. It samples the counter when
// the status page is read, so no goroutine has to outlive the server: the rate is the one
// between the last two samples at least pollRateWindow apart.
type pollRate struct {
	mu         sync.Mutex
	prev, last pollSample
}

type pollSample struct {
	polls int64
	at    time.Time
}

func newPollRate(polls int64, now time.Time) *pollRate {
	return &pollRate{last: pollSample{polls: polls, at: now}}
}

// observe takes a reading of the counter and returns the rate, with the span it was measured
// over; that span is 0 until two samples lie pollRateWindow apart.
func (r *pollRate) observe(polls int64, now time.Time) (perSecond float64, over time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now.Sub(r.last.at) >= pollRateWindow {
		r.prev, r.last = r.last, pollSample{polls: polls, at: now}
	}
	if r.prev.at.IsZero() {
		return 0, 0
	}
	over = r.last.at.Sub(r.prev.at)
	return float64(r.last.polls-r.prev.polls) / over.Seconds(), over
}
