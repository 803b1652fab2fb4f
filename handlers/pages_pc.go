package handlers

import "github.com/labstack/echo/v4"

// pcPages registers the pages of this file: PC detail and commands (helper).
func (s *Server) pcPages(e *echo.Echo) {}
