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

// apiError is an error with its HTTP status, the contract's error code and its text in both page
// languages, made side by side where the error is made (as views.T has them).
type apiError struct {
	Status     int
	Code       string
	Message    string // English: the JSON envelope's (docs/API.md) and the English pages'
	Korean     string // the Korean pages'
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

// text is the error's text in the page language.
func (e *apiError) text(ctx context.Context) string { return views.T(ctx, e.Korean, e.Message) }

// newError makes an error from its Korean and English formats, which take the same arguments
// (the Korean one picks them with %[n] where its word order differs, or where it leaves one out).
func newError(status int, code, ko, en string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Korean: fmt.Sprintf(ko, args...), Message: fmt.Sprintf(en, args...)}
}

func badRequest(code, ko, en string, args ...any) *apiError {
	return newError(http.StatusBadRequest, code, ko, en, args...)
}

func tooMany(retry time.Duration, ko, en string, args ...any) *apiError {
	e := newError(http.StatusTooManyRequests, "RATE_LIMITED", ko, en, args...)
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

// belowErrors are the errors of the layers below with their answers. The English text is the
// error's own, which names what it is about; the Korean one says what happened and what to do.
var belowErrors = []struct {
	err    error
	status int
	code   string
	ko     string
}{
	{models.ErrPINInvalid, http.StatusForbidden, "INVALID_PIN", "PIN이 틀렸거나 만료되었습니다. 대시보드에서 새 PIN을 받으세요."},
	{models.ErrPINUsed, http.StatusForbidden, "PIN_USED", "이미 사용된 PIN입니다. 대시보드에서 새 PIN을 받으세요."},
	{models.ErrWrongPC, http.StatusForbidden, "FORBIDDEN", "다른 PC의 명령입니다."},
	{fleet.ErrBadToken, http.StatusUnauthorized, "INVALID_AGENT_TOKEN", "에이전트 토큰이 이 PC와 맞지 않습니다. 새 PIN으로 다시 설치하세요."},
	{fleet.ErrTokenRequired, http.StatusUnauthorized, "INVALID_AGENT_TOKEN", "이 PC의 에이전트는 토큰을 보내야 합니다. 새 PIN으로 다시 설치하세요."},
	{models.ErrNotFound, http.StatusNotFound, codeNotFound, "그 사이에 지워졌을 수 있습니다. 페이지를 새로 고치세요."},
	{models.ErrAlreadyReported, http.StatusConflict, "ALREADY_REPORTED", "이 명령의 결과는 이미 기록되었습니다."},
	{models.ErrNotDelivered, http.StatusConflict, "NOT_DELIVERED", "이 명령은 아직 PC에 전달되지 않았습니다."},
	{models.ErrDuplicate, http.StatusConflict, codeConflict, "같은 것이 이미 있습니다. 다른 이름을 쓰세요."},
	{models.ErrRoomNotEmpty, http.StatusConflict, codeConflict, "강의실에 아직 PC가 있습니다. PC를 먼저 다른 곳으로 옮기거나 배치를 해제하세요."},
	{models.ErrSeatTaken, http.StatusConflict, codeConflict, "그 자리에는 이미 PC가 있습니다. 빈 자리를 고르세요."},
	{models.ErrRoomTooSmall, http.StatusConflict, codeConflict, "배치된 PC가 강의실 밖에 남게 됩니다. 그 PC들을 먼저 옮기세요."},
	{models.ErrTooMany, http.StatusConflict, codeConflict, "시간표 항목(강의실마다 50개)이나 예외 날짜(모두 500개)가 너무 많습니다. 지난 것이나 쓰지 않는 것을 지우세요."},
	{models.ErrSeatOutOfRange, http.StatusBadRequest, codeInvalidField, "강의실 안의 자리가 아닙니다."},
	{models.ErrCannotFill, http.StatusBadRequest, codeInvalidField, "채울 수 없습니다: 없는 PC이거나 다른 강의실에 배치된 PC가 있습니다. 그 PC를 먼저 옮기세요."},
}

// toAPIError maps every error to a status, code and texts, in this one place.
func toAPIError(err error) *apiError {
	var ae *apiError
	var he *echo.HTTPError
	var refused *agentbuilds.Refused
	var pending *fleet.ReenrolPending
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, echo.ErrStatusRequestEntityTooLarge):
		return newError(http.StatusRequestEntityTooLarge, "BODY_TOO_LARGE", "요청이 이 기능이 받는 크기보다 큽니다.",
			"the request body is larger than this route takes")
	case errors.As(err, &pending):
		e := newError(http.StatusForbidden, wire.CodeReenrolPending, "이미 등록된 PC입니다. 관리자가 대시보드에서 재등록을 "+
			"승인해야 합니다.", "This PC is already enrolled, and this install does not hold its token. An operator must "+
			"approve the re-enrolment on the dashboard; until then register again with the agent_token of this answer "+
			"as the bearer token. / 이미 등록된 PC입니다. 관리자가 대시보드에서 재등록을 승인해야 합니다.")
		e.AgentToken = pending.Token
		return e
	case errors.Is(err, fleet.ErrReenrolRefused):
		return newError(http.StatusForbidden, wire.CodeReenrolRefused, "관리자가 이 설치의 재등록을 거부했습니다. PC를 "+
			"확인한 뒤 새 PIN으로 다시 설치하세요.", "An operator refused this install's re-enrolment: check the PC, then "+
			"ask for a new PIN and reinstall. / 관리자가 이 설치의 재등록을 거부했습니다. PC를 확인한 뒤 새 PIN으로 다시 설치하세요.")
	case errors.As(err, &refused):
		return &apiError{Status: http.StatusBadRequest, Code: "INVALID_BUILD", Korean: refused.Korean, Message: refused.Reason}
	case errors.As(err, &he):
		msg := http.StatusText(he.Code)
		if m, ok := he.Message.(string); ok && m != "" {
			msg = m
		}
		// The pages' title already names the status in Korean.
		return &apiError{Status: he.Code, Code: strings.ToUpper(strings.ReplaceAll(http.StatusText(he.Code), " ", "_")), Message: msg}
	}
	for _, b := range belowErrors {
		if errors.Is(err, b.err) {
			return &apiError{Status: b.status, Code: b.code, Korean: b.ko, Message: err.Error()}
		}
	}
	return newError(http.StatusInternalServerError, "INTERNAL", "서버 오류입니다. 잠시 뒤 다시 시도하고, 계속되면 서버 로그를 확인하세요.",
		"internal server error")
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
	ctx := c.Request().Context()
	page := views.ErrorPage(ae.Status, ae.text(ctx))
	if isHTMX(c) {
		// An htmx action shows its error in the page's message area, whatever it targeted.
		page = views.ErrorFlash(ae.Status, ae.text(ctx))
		c.Response().Header().Set("HX-Retarget", "#flash")
		c.Response().Header().Set("HX-Reswap", "innerHTML")
	}
	var buf bytes.Buffer
	if err := page.Render(ctx, &buf); err != nil {
		c.String(ae.Status, ae.text(ctx))
		return
	}
	c.HTMLBlob(ae.Status, buf.Bytes())
}
