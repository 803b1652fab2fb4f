package handlers

import (
	"bytes"
	"embed"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"text/template"

	"github.com/labstack/echo/v4"
)

// installFS holds the install scripts, text/template files with {{.Base}} for this server's
// address.
//
//go:embed install
var installFS embed.FS

// parseInstallScripts parses the embedded scripts; they are part of the binary, so a failure is
// a bug that every test run catches.
func parseInstallScripts() *template.Template {
	return template.Must(template.ParseFS(installFS, "install/*"))
}

// installCRLF names the scripts cmd.exe runs, which want CRLF line ends.
var installCRLF = map[string]bool{"install.sh": false, "install.ps1": false, "install.cmd": true}

// scriptSafeURL is what a base URL must look like to be pasted into a script: nothing in it can
// end a quoted string or start a command in sh, PowerShell or cmd.
var scriptSafeURL = regexp.MustCompile(`^https?://[A-Za-z0-9.:/\[\]-]+$`)

// CheckPublicURL validates the public URL setting, which install scripts embed: an http or https
// URL made only of letters, digits and . : / [ ] - after the scheme.
func CheckPublicURL(u string) error {
	if u != "" && !scriptSafeURL.MatchString(strings.TrimRight(u, "/")) {
		return fmt.Errorf("public URL %q: want http:// or https:// and a host[:port][/path] of letters, digits and . : / [ ] - only", u)
	}
	return nil
}

// scriptBaseURL is this server's base URL for an install script or one-liner. baseURL keeps a
// forged Host out, and main checks the public URL at start; checked here too because scripts
// run as root or administrator.
func (s *Server) scriptBaseURL(c echo.Context) (string, error) {
	base := s.baseURL(c)
	if !scriptSafeURL.MatchString(base) {
		return "", fmt.Errorf("base URL %q is not safe to embed", base)
	}
	return base, nil
}

// installScript serves an install script for this server: install.sh (Linux), install.ps1
// (PowerShell) or install.cmd (cmd).
func (s *Server) installScript(c echo.Context) error {
	name := c.Param("name")
	crlf, ok := installCRLF[name]
	if !ok {
		return newError(http.StatusNotFound, codeNotFound, "설치 스크립트 %q은(는) 없습니다: install.sh, install.ps1, install.cmd가 있습니다",
			"no install script %q: there are install.sh, install.ps1 and install.cmd", name)
	}
	base, err := s.scriptBaseURL(c)
	if err != nil {
		return fmt.Errorf("install script: %w", err)
	}
	var buf bytes.Buffer
	if err := s.scripts.ExecuteTemplate(&buf, name, struct{ Base string }{base}); err != nil {
		return fmt.Errorf("install script %s: %w", name, err)
	}
	out := buf.Bytes()
	if crlf {
		out = bytes.ReplaceAll(out, []byte("\n"), []byte("\r\n"))
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", out)
}
