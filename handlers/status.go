package handlers

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// healthz answers 200 while the database answers.
func (s *Server) healthz(c echo.Context) error {
	if _, err := s.store.CountAdmins(c.Request().Context()); err != nil {
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "error", "message": "database unavailable"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// serverStatus reports the server's version, uptime and fleet counts.
func (s *Server) serverStatus(c echo.Context) error {
	st := s.fleet.Stats()
	size, err := s.store.SizeBytes(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{
		"status": "success", "version": s.cfg.Version,
		"uptime_seconds": int64(time.Since(s.started).Seconds()),
		"pcs":            st.PCs, "pcs_online": st.Online, "pcs_offline": st.PCs - st.Online,
		"commands_pending": st.Pending, "legacy_clients": s.cfg.LegacyClients,
		"event_subscribers": s.hub.Subscribers(), "database_bytes": size,
	})
}
