package handlers

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// healthz answers 200 while the database answers.
func (s *Server) healthz(c echo.Context) error {
	if _, err := s.store.CountAdmins(c.Request().Context()); err != nil {
		return c.JSON(http.StatusServiceUnavailable, messageAnswer{ok{"error"}, "database unavailable"})
	}
	return c.JSON(http.StatusOK, ok{"ok"})
}

// serverStatus reports the server's version, uptime and fleet counts.
func (s *Server) serverStatus(c echo.Context) error {
	st := s.fleet.Stats()
	size, err := s.store.SizeBytes(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, statusAnswer{ok: success, Version: s.cfg.Version,
		UptimeSeconds: int64(time.Since(s.started).Seconds()),
		PCs:           st.PCs, PCsOnline: st.Online, PCsOffline: st.PCs - st.Online,
		CommandsPending: st.Pending, LegacyClients: s.cfg.LegacyClients,
		EventSubscribers: s.hub.Subscribers(), DatabaseBytes: size,
	})
}
