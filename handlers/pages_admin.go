package handlers

import "github.com/labstack/echo/v4"

// adminPages registers the pages of this file: PINs, layout editor, accounts (helper).
func (s *Server) adminPages(e *echo.Echo) {}
