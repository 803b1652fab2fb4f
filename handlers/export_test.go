package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// Exported for the black-box tests (package handlers_test), which build the server through app.New.

const (
	CSRFHeader         = csrfHeader
	CSRFCookie         = csrfCookie
	SessionCookie      = sessionCookie
	CodeInvalidField   = codeInvalidField
	StreamsPerSession  = streamsPerSession
	StreamsPerWallLink = streamsPerWallLink
	LogPageSize        = logPageSize
	UnknownIP          = unknownIP
	MaxSpecText        = maxSpecText
	MaxResultOutput    = maxResultOutput
	MaxResultError     = maxResultError
	MaxProcesses       = maxProcesses
	MaxHostname        = maxHostname
	MaxCurrentUser     = maxCurrentUser
	MaxProcessName     = maxProcessName
	MaxMachineID       = maxMachineID
	MaxInstanceID      = maxInstanceID
	PasswordPath       = passwordPath
)

var DownloadPlatform = downloadPlatform

// EchoOf is the echo instance inside a handler New built, for the tests that walk or add routes.
func EchoOf(h http.Handler) *echo.Echo { return h.(*Server).echo }
