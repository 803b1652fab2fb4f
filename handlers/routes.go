package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/static"
)

// routes registers every route of the server.
func (s *Server) routes(e *echo.Echo) {
	e.Use(s.recoverPanics, s.logRequests, s.securityHeaders, s.limitBody)

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
	client.GET("/commands", s.longPollCommands)
	client.POST("/commands/:id/result", s.reportResult)
	client.POST("/shutdown", s.agentShutdown)
	client.POST("/offline", s.agentOffline)

	// Pages.
	e.GET("/login", s.loginPage)
	e.POST("/login", s.login)
	pages := e.Group("", s.requireSession, s.requireCSRF)
	pages.POST("/logout", s.logout)
	pages.GET("/", s.homePage)

	// Admin API: session, CSRF on every state change, roles.
	admin := e.Group("/api/admin", s.requireSession, s.requireCSRF)
	viewer := admin.Group("", s.requireRole(models.RoleViewer))
	operator := admin.Group("", s.requireRole(models.RoleOperator))
	owner := admin.Group("", s.requireRole(models.RoleAdmin))

	viewer.GET("/status", s.serverStatus)
	viewer.GET("/pcs", s.listPCs)
	viewer.GET("/pcs/unverified", s.listUnverifiedPCs)
	viewer.GET("/pc/:id", s.getPC)
	viewer.GET("/pc/:id/commands", s.listPCCommands)
	viewer.GET("/pc/:id/history", s.pcHistory)
	viewer.GET("/command/:id", s.getCommand)
	viewer.GET("/rooms", s.listRooms)
	viewer.GET("/registration-tokens", s.listPINs)
	viewer.POST("/password", s.changeOwnPassword)

	operator.POST("/registration-token", s.createPIN)
	operator.DELETE("/registration-token/:token", s.revokePIN)
	operator.DELETE("/pc/:id", s.deletePC)
	operator.PUT("/pc/:id/verified", s.setVerified)
	operator.PUT("/pc/:id/seat", s.setSeat)
	operator.POST("/pc/:id/shutdown", s.shutdownPC)
	operator.POST("/pc/:id/reboot", s.rebootPC)
	operator.POST("/pc/:id/execute", s.executeOnPC)
	operator.POST("/pc/:id/command", s.sendCommand)
	operator.DELETE("/pc/:id/commands/pending", s.cancelPending)
	operator.POST("/commands/bulk", s.sendBulk)
	operator.POST("/rooms", s.createRoom)
	operator.PUT("/room/:name", s.updateRoom)
	operator.DELETE("/room/:name", s.deleteRoom)

	owner.GET("/accounts", s.listAccounts)
	owner.POST("/accounts", s.createAccount)
	owner.PUT("/account/:username/password", s.resetPassword)
}
