package handlers

import "github.com/labstack/echo/v4"

// wallPages registers the pages of this file: wall display and the live stream.
func (s *Server) wallPages(e *echo.Echo) {}
