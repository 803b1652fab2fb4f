// Package views holds the server's HTML: templ components (*.templ, with the
// generated *_templ.go committed beside them) and the small view models they
// take. Views know nothing of HTTP frameworks or the database: a handler
// shapes what the screen needs into one of these structs and renders it.
package views

import (
	"context"
	"net/http"
	"strconv"
)

// LoginData is what the login page shows.
type LoginData struct {
	// Username is put back into the form after a failed attempt.
	Username string
	// Error, when set, is shown above the form.
	Error string
}

// statusTitles names the statuses the server returns, in Korean.
var statusTitles = map[int]string{
	http.StatusBadRequest:            "잘못된 요청",
	http.StatusUnauthorized:          "로그인이 필요합니다",
	http.StatusForbidden:             "권한이 없습니다",
	http.StatusNotFound:              "찾을 수 없습니다",
	http.StatusMethodNotAllowed:      "허용되지 않는 메서드",
	http.StatusConflict:              "충돌",
	http.StatusRequestEntityTooLarge: "요청이 너무 큽니다",
	http.StatusTooManyRequests:       "요청이 너무 많습니다",
	http.StatusInternalServerError:   "서버 오류",
	http.StatusServiceUnavailable:    "서비스를 사용할 수 없습니다",
}

// statusTitleKO is the Korean name of an HTTP status, or a generic one.
func statusTitleKO(status int) string {
	if t, ok := statusTitles[status]; ok {
		return t
	}
	return "오류"
}

// statusTitleEN is the English name of an HTTP status, or a generic one.
func statusTitleEN(status int) string {
	if t := http.StatusText(status); t != "" {
		return t
	}
	return "Error"
}

// errorTitle is the document title of an error page, e.g. "404 찾을 수 없습니다 · Not Found".
func errorTitle(status int) string {
	return strconv.Itoa(status) + " " + statusTitleKO(status) + " · " + statusTitleEN(status)
}

// flashText is an htmx action's error line: the status's name in the page language, then the
// error's own text.
func flashText(ctx context.Context, status int, message string) string {
	title := T(ctx, statusTitleKO(status), statusTitleEN(status))
	if message == "" {
		return title
	}
	return title + ": " + message
}
