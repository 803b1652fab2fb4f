package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/static"
)

// routes registers every route of the server.
func (s *Server) routes(e *echo.Echo) {
	e.Use(s.recoverPanics, s.logRequests, s.securityHeaders, s.limitBody, s.withLang)

	e.GET("/healthz", s.healthz)
	e.GET("/metrics", s.metrics.handler())
	e.GET("/static/*", echo.WrapHandler(http.StripPrefix("/static/", http.FileServerFS(static.FS))))

	// Agent API (CONTRACT.md).
	client := e.Group("/api/client")
	client.GET("/version", s.clientVersion)
	client.POST("/register", s.registerPC)
	client.POST("/heartbeat", s.heartbeat)
	client.POST("/commands", s.pollCommands)
	client.POST("/command", s.pollCommands) // the seed document's section 3 uses the singular
	client.GET("/commands", s.longPollCommands, checkAgentQuery)
	client.POST("/commands/:id/result", s.reportResult)
	client.POST("/shutdown", s.agentShutdown)
	client.POST("/offline", s.agentOffline)

	// Agent downloads and install scripts: no session, since agents and installers cannot log in.
	// HEAD tells a build's version, hash and size without sending it.
	getHead := []string{http.MethodGet, http.MethodHead}
	e.Match(getHead, "/download/:name", s.downloadNewest)
	e.Match(getHead, "/download/builds/:id/:name", s.downloadBuild)
	e.GET("/install/:name", s.installScript)

	// Pages. Middleware goes on each route, not on a group: an echo group with middleware also
	// claims every unknown path under its prefix, turning 404s into login redirects.
	e.GET("/login", s.loginPage)
	e.POST("/login", s.login)
	e.POST("/logout", s.logout, s.requireSession, s.requireCSRF)
	e.GET("/", s.roomPage, s.requireSession, s.requirePasswordChanged)
	e.GET("/lang/:lang", s.switchLang)
	s.pcPages(e)    // pages_pc.go
	s.adminPages(e) // pages_admin.go
	s.infoPages(e)  // pages_info.go
	s.wallPages(e)  // pages_wall.go

	// Admin API: session, a forced password change first as for pages, CSRF on every state
	// change, then the role the route needs.
	admin := func(method, path, role string, h echo.HandlerFunc) {
		e.Add(method, "/api/admin"+path, h, s.requireSession, s.requirePasswordChanged, s.requireCSRF, s.requireRole(role))
	}
	const viewer, operator, owner = models.RoleViewer, models.RoleOperator, models.RoleAdmin

	admin(http.MethodGet, "/status", viewer, s.serverStatus)
	admin(http.MethodGet, "/pcs", viewer, s.listPCs)
	admin(http.MethodGet, "/pcs/unverified", viewer, s.listUnverifiedPCs)
	admin(http.MethodGet, "/pc/:id", viewer, s.getPC)
	admin(http.MethodGet, "/pc/:id/commands", viewer, s.listPCCommands)
	admin(http.MethodGet, "/pc/:id/history", viewer, s.pcHistory)
	admin(http.MethodGet, "/command/:id", viewer, s.getCommand)
	admin(http.MethodGet, "/rooms", viewer, s.listRooms)
	admin(http.MethodGet, "/registration-tokens", viewer, s.listPINs)
	admin(http.MethodGet, agentBuildsRoute, viewer, s.listAgentBuilds)
	admin(http.MethodPost, "/password", viewer, s.changeOwnPassword)

	admin(http.MethodPost, "/registration-token", operator, s.createPIN)
	admin(http.MethodDelete, "/registration-token/:token", operator, s.revokePIN)
	admin(http.MethodDelete, "/registration-tokens/:id", operator, s.revokePINByID)
	admin(http.MethodDelete, "/pc/:id", operator, s.deletePC)
	admin(http.MethodPut, "/pc/:id/verified", operator, s.setVerified)
	admin(http.MethodPut, "/pc/:id/seat", operator, s.setSeat)
	admin(http.MethodPost, "/pc/:id/shutdown", operator, s.shutdownPC)
	admin(http.MethodPost, "/pc/:id/reboot", operator, s.rebootPC)
	admin(http.MethodPost, "/pc/:id/execute", operator, s.executeOnPC)
	admin(http.MethodPost, "/pc/:id/command", operator, s.sendCommand)
	admin(http.MethodDelete, "/pc/:id/commands/pending", operator, s.cancelPending)
	admin(http.MethodPost, "/commands/bulk", operator, s.sendBulk)
	admin(http.MethodPost, "/rooms", operator, s.createRoom)
	admin(http.MethodPut, "/room/:name", operator, s.updateRoom)
	admin(http.MethodDelete, "/room/:name", operator, s.deleteRoom)

	admin(http.MethodGet, "/accounts", owner, s.listAccounts)
	admin(http.MethodPost, "/accounts", owner, s.createAccount)
	admin(http.MethodPut, "/account/:username/password", owner, s.resetPassword)
	admin(http.MethodPost, agentBuildsRoute, owner, s.uploadAgentBuild)
	admin(http.MethodDelete, "/agent-build/:id", owner, s.deleteAgentBuild)

	s.identityRoutes(e, admin) // identity.go
}

// pageRoute registers a page or page action: session, a forced password change first when the
// account must change its password, CSRF on state changes, then the role.
func (s *Server) pageRoute(e *echo.Echo, method, path, role string, h echo.HandlerFunc) {
	e.Add(method, path, h, s.requireSession, s.requirePasswordChanged, s.requireCSRF, s.requireRole(role))
}
