package handlers

import (
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/wcms-lab/wcms/models"
)

// routes registers every route of the server, one function per audience below. Each audience
// has its own middleware chain, chosen here; no middleware looks at the URL to learn whose
// request it is.
func (s *Server) routes(e *echo.Echo) {
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{LogErrorFunc: s.logPanic, DisableStackAll: true, StackSize: 16 << 10}),
		s.logRequests,
		middleware.SecureWithConfig(middleware.SecureConfig{
			Skipper:               s.withoutPageHeaders, // the routes agentRoutes marks noPageHeaders
			ContentTypeNosniff:    "nosniff",
			XFrameOptions:         "DENY",
			ReferrerPolicy:        "same-origin",
			ContentSecurityPolicy: "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
			HSTSMaxAge:            31536000,
			HSTSExcludeSubdomains: true, // the server's name says nothing of its domain's other hosts
		}),
		s.withLang)
	s.agentRoutes(e)
	s.adminAPIRoutes(e)
	s.pageRoutes(e)
	s.wallRoutes(e)
}

// routeSet registers routes that share one middleware chain and one way of answering.
type routeSet struct {
	e     *echo.Echo
	kinds *routeKinds
	chain []echo.MiddlewareFunc
	kind  routeKind
}

func (s *Server) newRouteSet(e *echo.Echo, kind routeKind, chain ...echo.MiddlewareFunc) routeSet {
	return routeSet{e, &s.kinds, chain, kind}
}

// add registers a route: the set's chain, then mw.
func (r routeSet) add(method, path string, h echo.HandlerFunc, mw ...echo.MiddlewareFunc) {
	r.kinds.set(path, r.kind)
	r.e.Add(method, path, h, append(slices.Clone(r.chain), mw...)...)
}

// then is the set with more middleware after its chain, answering as kind.
func (r routeSet) then(kind routeKind, mw ...echo.MiddlewareFunc) routeSet {
	return routeSet{r.e, r.kinds, append(slices.Clone(r.chain), mw...), kind}
}

const (
	get, post, put, del = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete
	// viewer, operator and owner are the roles, lowest first (roleRank in auth.go).
	viewer, operator, owner = models.RoleViewer, models.RoleOperator, models.RoleAdmin
)

// agentRoutes: what agents, install scripts and monitoring call (docs/API.md). No session, since
// none of them can log in; errors in the JSON envelope; successes are counted in /metrics and
// logged at debug only, for thousands of agents poll every 2 s. Only the static files are shown by
// browsers, so the rest go without the pages' security headers (noPageHeaders), which an agent
// would otherwise receive 1,800 times an hour.
func (s *Server) agentRoutes(e *echo.Echo) {
	machines := s.newRouteSet(e, forPrograms|noPageHeaders, middleware.BodyLimit(byteLimit(s.cfg.MaxBody)))

	machines.add(get, "/healthz", s.healthz) // monitoring's probe, JSON
	quiet := machines.then(forPrograms | quietSuccess | noPageHeaders)
	quiet.add(get, "/metrics", s.metrics.handler()) // Prometheus text, read by a scraper
	// Browsers load these: they keep the page headers (nosniff matters for scripts and styles).
	quiet.then(forPrograms|quietSuccess).add(get, "/static/*", staticFiles())

	// The agents' JSON. no-store where a cache could keep an answer: on GETs (a kept "no command"
	// would hide commands) and on the register's token. HTTP caches do not keep the answer to a
	// POST that gives no freshness, so the 2 s polls go without it; poll sets it all the same on
	// an answer that carries a command (docs/SECURITY.md).
	const agents = forPrograms | quietSuccess | agentAPI | noPageHeaders
	client := quiet.then(agents)
	kept := client.then(agents, noStore)
	kept.add(get, "/api/client/version", s.clientVersion)
	kept.add(post, "/api/client/register", s.registerPC)
	client.add(post, "/api/client/heartbeat", s.heartbeat)
	client.add(post, "/api/client/commands", s.pollCommands)
	client.add(post, "/api/client/command", s.pollCommands) // docs/API.md's long-poll section uses the singular
	kept.add(get, "/api/client/commands", s.longPollCommands, checkAgentQuery)
	client.add(post, "/api/client/commands/:id/result", s.reportResult)
	client.add(post, "/api/client/shutdown", s.agentShutdown)
	client.add(post, "/api/client/offline", s.agentOffline)

	// Builds and install scripts, fetched by agents and by `curl | sh`: a build is an attachment
	// and a script text/plain, neither of which a browser renders as a page. HEAD tells a build's
	// version, hash and size without sending it.
	for _, m := range []string{get, http.MethodHead} {
		machines.add(m, "/download/:name", s.downloadNewest)
		machines.add(m, "/download/builds/:id/:name", s.downloadBuild)
	}
	machines.add(get, "/install/:name", s.installScript)
}

// adminAPIRoutes: the admin JSON API. A session, a forced password change first as for pages,
// CSRF (header only) on every state change, then the role the route needs.
func (s *Server) adminAPIRoutes(e *echo.Echo) {
	api := s.newRouteSet(e, forPrograms, noStore)
	// An unknown path under /api/ is a JSON 404, for agents and scripts alike.
	api.add(echo.RouteNotFound, "/api/*", notFound)

	admin := func(method, path, role string, h echo.HandlerFunc) {
		api.add(method, "/api/admin"+path, h, s.signedIn(s.cfg.MaxBody, s.requireCSRF, role)...)
	}
	// The one route an account that must change its password can use, besides the pages'.
	api.add(post, "/api/admin"+passwordPath, s.changeOwnPassword, s.signedIn(s.cfg.MaxBody, s.requireCSRF, "")...)
	api.add(post, "/api/admin"+agentBuildsRoute, s.uploadAgentBuild, s.signedIn(s.cfg.MaxUpload, s.requireCSRF, owner)...)

	admin(get, "/status", viewer, s.serverStatus)
	admin(get, "/pcs", viewer, s.listPCs)
	admin(get, "/pcs/unverified", viewer, s.listUnverifiedPCs)
	admin(get, "/pc/:id", viewer, s.getPC)
	admin(get, "/pc/:id/commands", viewer, s.listPCCommands)
	admin(get, "/pc/:id/history", viewer, s.pcHistory)
	admin(get, "/pc/:id/metrics", viewer, s.pcMetrics)
	admin(get, "/room/:name/metrics", viewer, s.roomMetrics)
	admin(get, "/command/:id", viewer, s.getCommand)
	admin(get, "/rooms", viewer, s.listRooms)
	admin(get, "/registration-tokens", viewer, s.listPINs)
	admin(get, agentBuildsRoute, viewer, s.listAgentBuilds)
	admin(get, "/reenrolments", viewer, s.listReenrolments)
	admin(get, "/clones", viewer, s.listClones)

	admin(post, "/registration-token", operator, s.createPIN)
	admin(del, "/registration-token/:token", operator, s.revokePIN)
	admin(del, "/registration-tokens/:id", operator, s.revokePINByID)
	admin(del, "/pc/:id", operator, s.deletePC)
	admin(put, "/pc/:id/verified", operator, s.setVerified)
	admin(put, "/pc/:id/seat", operator, s.setSeat)
	admin(post, "/pc/:id/shutdown", operator, s.shutdownPC)
	admin(post, "/pc/:id/reboot", operator, s.rebootPC)
	admin(post, "/pc/:id/execute", operator, s.executeOnPC)
	admin(post, "/pc/:id/command", operator, s.sendCommand)
	admin(del, "/pc/:id/commands/pending", operator, s.cancelPending)
	admin(post, "/commands/bulk", operator, s.sendBulk)
	admin(post, "/wake", operator, s.wakePCs)
	admin(get, "/room/:name/timetable", viewer, s.getTimetable)
	admin(post, "/room/:name/timetable/entries", operator, s.addEntryAPI)
	admin(del, "/room/:name/timetable/entries/:id", operator, s.deleteEntryAPI)
	admin(post, "/room/:name/timetable/exceptions", operator, s.addExceptionAPI)
	admin(del, "/room/:name/timetable/exceptions/:id", operator, s.deleteExceptionAPI)
	admin(post, "/rooms", operator, s.createRoom)
	admin(put, "/room/:name", operator, s.updateRoom)
	admin(del, "/room/:name", operator, s.deleteRoom)
	admin(post, "/rooms/:id/fill", operator, s.fillRoom)
	admin(post, "/reenrolment/:id/:decision", operator, s.decideReenrolment)

	admin(get, "/accounts", owner, s.listAccounts)
	admin(post, "/accounts", owner, s.createAccount)
	admin(put, "/account/:username/password", owner, s.resetPassword)
	admin(del, "/agent-build/:id", owner, s.deleteAgentBuild)
}

// pageRoutes: the signed-in dashboard. A session, a forced password change first, CSRF (header
// or form field) on every state change, then the role the page needs.
func (s *Server) pageRoutes(e *echo.Echo) {
	pages := s.newRouteSet(e, forPeople)
	pages.add(get, "/login", s.loginPage)
	pages.add(post, "/login", s.login, middleware.BodyLimit(byteLimit(s.cfg.MaxBody)))
	pages.add(get, "/lang/:lang", s.switchLang)

	page := func(method, path, role string, h echo.HandlerFunc) {
		pages.add(method, path, h, s.signedIn(s.cfg.MaxBody, s.requireCSRFForm, role)...)
	}
	// What an account that must change its password can still do.
	for _, r := range []struct {
		method, path string
		h            echo.HandlerFunc
	}{{post, "/logout", s.logout}, {get, passwordPath, s.passwordPage}, {post, passwordPath, s.changePasswordPage}} {
		pages.add(r.method, r.path, r.h, s.signedIn(s.cfg.MaxBody, s.requireCSRFForm, "")...)
	}
	pages.add(post, agentsPath, s.uploadBuildPage, s.signedIn(s.cfg.MaxUpload, s.requireCSRFForm, owner)...)

	page(get, "/", viewer, s.roomPage)
	page(get, "/stream", viewer, s.stream)
	page(get, "/alerts", viewer, s.alertsPanel)
	page(get, "/pc/:id", viewer, s.pcPage)
	page(get, "/pc/:id/chart", viewer, s.pcChartPage)
	page(get, "/room-chart", viewer, s.roomChartPage)
	page(get, "/pcs", viewer, s.pcsPage)
	page(get, "/status", viewer, s.statusPage)
	page(get, "/log", viewer, s.logPage)
	page(get, "/log/export", viewer, s.exportLog)
	page(get, agentsPath, viewer, s.agentsPage)

	page(del, "/pc/:id", operator, s.deletePCPage)
	page(get, "/commands/new", operator, s.commandFormPage)
	page(post, "/commands", operator, s.sendCommandsPage)
	page(post, "/commands/retry", operator, s.retryCommandsPage)
	page(post, "/wake", operator, s.wakePage)
	page(get, "/timetable", viewer, s.timetablePage)
	page(post, "/timetable/entries", operator, s.addEntryPage)
	page(del, "/timetable/entries/:id", operator, s.deleteEntryPage)
	page(post, "/timetable/exceptions", operator, s.addExceptionPage)
	page(del, "/timetable/exceptions/:id", operator, s.deleteExceptionPage)
	page(post, "/room-actions/:id/cancel", operator, s.cancelRoomActionPage)
	page(post, "/reenrolments/:id/:decision", operator, s.decideReenrolmentPage)
	page(get, "/pins", operator, s.pinsPage)
	page(post, "/pins", operator, s.createPINPage)
	page(del, "/pins/:id", operator, s.revokePINPage)
	page(get, "/layout", operator, s.layoutPage)
	page(post, "/layout/rooms", operator, s.createRoomPage)
	page(post, "/layout/room", operator, s.updateRoomPage)
	page(del, "/layout/room", operator, s.deleteRoomPage)
	page(post, "/layout/seat", operator, s.placePCPage)
	page(get, "/layout/fill/preview", operator, s.fillPreviewPage)
	page(post, "/layout/fill", operator, s.fillPage)
	page(post, "/layout/unplace", operator, s.unplaceSelectedPage)
	page(post, "/layout/pc/:id/unplace", operator, s.unplacePCPage)
	page(post, "/layout/pc/:id/verify", operator, s.verifyPCPage)
	page(get, "/walls", operator, s.wallLinksPage)
	page(post, "/walls", operator, s.createWallLink)
	page(post, "/walls/:id/revoke", operator, s.revokeWallLink)

	page(get, "/accounts", owner, s.accountsPage)
	page(post, "/accounts", owner, s.createAccountPage)
	page(post, "/accounts/password", owner, s.resetPasswordPage)
	page(del, "/agents/:id", owner, s.deleteBuildPage)
}

// signedIn is the chain of a route for signed-in accounts: a body limit, the session, CSRF on state
// changes, then the role. With a role, an account that must change its password is held at that
// change first (requirePasswordChanged); "" leaves it through, for the few routes it needs.
func (s *Server) signedIn(limit int64, csrf echo.MiddlewareFunc, role string) []echo.MiddlewareFunc {
	chain := []echo.MiddlewareFunc{middleware.BodyLimit(byteLimit(limit)), s.requireSession}
	if role == "" {
		return append(chain, csrf)
	}
	return append(chain, s.requirePasswordChanged, csrf, s.requireRole(role))
}

// wallRoutes: the wall display, which signs in with the token in its URL, not a session, and
// only ever reads.
func (s *Server) wallRoutes(e *echo.Echo) {
	wall := s.newRouteSet(e, forPeople)
	wall.add(get, "/wall/:room", s.wallPage)
	wall.add(get, "/wall/:room/stream", s.wallStream)
}
