package handlers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wcms-lab/wcms/agentbuilds"
	"github.com/wcms-lab/wcms/fleet"
	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/views"
	"github.com/wcms-lab/wcms/wire"
)

// apiError is an error with its HTTP status and the contract's error code.
type apiError struct {
	Status     int
	Code       string
	Message    string
	RetryAfter time.Duration
	AgentToken string // wire.ErrorResponse.AgentToken
	// Redirect, when set, sends a page's browser there (with RedirectStatus, or the whole tab
	// for htmx) instead of showing the error; programs get the error.
	Redirect       string
	RedirectStatus int
}

// pagesTo makes e send pages' browsers to path with status.
func (e *apiError) pagesTo(status int, path string) *apiError {
	e.Redirect, e.RedirectStatus = path, status
	return e
}

func (e *apiError) Error() string { return e.Message }

func newError(status int, code, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func badRequest(code, format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, code, format, args...)
}

func tooMany(retry time.Duration, format string, args ...any) *apiError {
	e := newError(http.StatusTooManyRequests, "RATE_LIMITED", format, args...)
	e.RetryAfter = retry
	return e
}

// Error codes used in more than one place.
const (
	codeInvalidField = "INVALID_FIELD"
	codeMissingField = "MISSING_FIELD"
	codeNotFound     = "NOT_FOUND"
	codeConflict     = "CONFLICT"
)

// toAPIError maps every error to a status and code, in this one place.
func toAPIError(err error) *apiError {
	var ae *apiError
	var he *echo.HTTPError
	var refused *agentbuilds.Refused
	var pending *fleet.ReenrolPending
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, echo.ErrStatusRequestEntityTooLarge):
		return newError(http.StatusRequestEntityTooLarge, "BODY_TOO_LARGE", "the request body is larger than this route takes")
	case errors.Is(err, models.ErrPINInvalid):
		return newError(http.StatusForbidden, "INVALID_PIN", "Invalid or expired PIN")
	case errors.Is(err, models.ErrPINUsed):
		return newError(http.StatusForbidden, "PIN_USED", "PIN already used")
	case errors.Is(err, models.ErrWrongPC):
		return newError(http.StatusForbidden, "FORBIDDEN", "command belongs to another PC")
	case errors.Is(err, fleet.ErrBadToken), errors.Is(err, fleet.ErrTokenRequired):
		return newError(http.StatusUnauthorized, "INVALID_AGENT_TOKEN", "%s", err.Error())
	case errors.As(err, &pending):
		e := newError(http.StatusForbidden, wire.CodeReenrolPending, "This PC is already enrolled, and this install "+
			"does not hold its token. An operator must approve the re-enrolment on the dashboard; until then "+
			"register again with the agent_token of this answer as the bearer token. / 이미 등록된 PC입니다. "+
			"관리자가 대시보드에서 재등록을 승인해야 합니다.")
		e.AgentToken = pending.Token
		return e
	case errors.Is(err, fleet.ErrReenrolRefused):
		return newError(http.StatusForbidden, wire.CodeReenrolRefused, "An operator refused this install's "+
			"re-enrolment: check the PC, then ask for a new PIN and reinstall. / 관리자가 이 설치의 재등록을 "+
			"거부했습니다. PC를 확인한 뒤 새 PIN으로 다시 설치하세요.")
	case errors.As(err, &refused):
		return badRequest("INVALID_BUILD", "%s", refused.Reason)
	case errors.Is(err, models.ErrNotFound):
		return newError(http.StatusNotFound, codeNotFound, "%s", err.Error())
	case errors.Is(err, models.ErrAlreadyReported):
		return newError(http.StatusConflict, "ALREADY_REPORTED", "a result was already recorded for this command")
	case errors.Is(err, models.ErrNotDelivered):
		return newError(http.StatusConflict, "NOT_DELIVERED", "this command has not been delivered to its PC yet")
	case errors.Is(err, models.ErrDuplicate), errors.Is(err, models.ErrRoomNotEmpty),
		errors.Is(err, models.ErrSeatTaken), errors.Is(err, models.ErrRoomTooSmall):
		return newError(http.StatusConflict, codeConflict, "%s", err.Error())
	case errors.Is(err, models.ErrSeatOutOfRange), errors.Is(err, models.ErrCannotFill):
		return badRequest(codeInvalidField, "%s", err.Error())
	case errors.As(err, &he):
		msg := http.StatusText(he.Code)
		if m, ok := he.Message.(string); ok && m != "" {
			msg = m
		}
		return newError(he.Code, strings.ToUpper(strings.ReplaceAll(http.StatusText(he.Code), " ", "_")), "%s", msg)
	}
	return newError(http.StatusInternalServerError, "INTERNAL", "internal server error")
}

// handleError is echo's error handler: the dual JSON envelope for the API, an error page for
// browsers, a small fragment for HTMX.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	ae := toAPIError(err)
	if ae.Status >= 500 && !errors.Is(err, context.Canceled) {
		s.log.Error("request failed", "method", c.Request().Method, "path", c.Path(), "err", err)
	}
	if ae.RetryAfter > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(ae.RetryAfter.Seconds()+0.999)))
	}
	if s.answersJSON(c) {
		c.JSON(ae.Status, wire.ErrorResponse{Status: "error", Message: ae.Message,
			Error: wire.ErrorBody{Code: ae.Code, Message: ae.Message}, AgentToken: ae.AgentToken})
		return
	}
	if ae.Redirect != "" {
		if isHTMX(c) {
			// htmx would put a redirected page into the fragment's target; move the whole tab.
			c.Response().Header().Set("HX-Redirect", ae.Redirect)
			c.NoContent(ae.Status)
			return
		}
		c.Redirect(ae.RedirectStatus, ae.Redirect)
		return
	}
	page := views.ErrorPage(ae.Status, ae.Message)
	if isHTMX(c) {
		// An htmx action shows its error in the page's message area, whatever it targeted.
		page = views.ErrorFlash(ae.Status, ae.Message)
		c.Response().Header().Set("HX-Retarget", "#flash")
		c.Response().Header().Set("HX-Reswap", "innerHTML")
	}
	var buf bytes.Buffer
	if err := page.Render(c.Request().Context(), &buf); err != nil {
		c.String(ae.Status, ae.Message)
		return
	}
	c.HTMLBlob(ae.Status, buf.Bytes())
}
