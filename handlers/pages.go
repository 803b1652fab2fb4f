package handlers

import (
	"bytes"
	"net/http"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/views"
)

// render renders a component into a buffer first, so a failed render is a clean 500.
func (s *Server) render(c echo.Context, status int, comp templ.Component) error {
	var buf bytes.Buffer
	if err := comp.Render(c.Request().Context(), &buf); err != nil {
		return err
	}
	c.Response().Header().Set("Vary", "HX-Request")
	return c.HTMLBlob(status, buf.Bytes())
}

// homePage shows the fleet's counts (the live dashboard comes later).
func (s *Server) homePage(c echo.Context) error {
	st := s.fleet.Stats()
	return s.render(c, http.StatusOK, views.HomePage(views.HomeData{
		Username:  currentAdmin(c).Username,
		CSRFToken: c.Get(ctxSession).(*models.Session).CSRFToken,
		Total:     st.PCs, Online: st.Online, Offline: st.PCs - st.Online,
		LegacyClients: s.cfg.LegacyClients, Version: s.cfg.Version,
	}))
}
