package handlers

import "github.com/labstack/echo/v4"

// infoPages registers the pages of this file: agents, status, event log (helper).
func (s *Server) infoPages(e *echo.Echo) {}
