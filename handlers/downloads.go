package handlers

import (
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/wcms-lab/wcms/agentbuilds"
	"github.com/wcms-lab/wcms/models"
	"github.com/wcms-lab/wcms/static"
)

// staticFiles serves the embedded browser assets. The font files are many and change only with
// the font package, so browsers keep them for a week instead of fetching every page's glyphs again.
func staticFiles() echo.HandlerFunc {
	files := http.StripPrefix("/static/", http.FileServerFS(static.FS))
	return func(c echo.Context) error {
		if strings.HasPrefix(c.Request().URL.Path, "/static/fonts/") {
			c.Response().Header().Set("Cache-Control", "public, max-age=604800")
		}
		files.ServeHTTP(c.Response(), c.Request())
		return nil
	}
}

// buildURL is the download address of one exact build.
func buildURL(base string, b *models.AgentBuild) string {
	return fmt.Sprintf("%s/download/builds/%d/%s", base, b.ID, b.FileName())
}

// downloadBuild serves one exact build. Its content never changes, so it may be cached.
func (s *Server) downloadBuild(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	b, err := s.store.AgentBuild(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if name := c.Param("name"); name != b.FileName() {
		return newError(http.StatusNotFound, codeNotFound, "빌드 %d의 파일 이름은 %q이 아니라 %s입니다",
			"build %d is %[3]s, not %[2]q", b.ID, name, b.FileName())
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	return s.serveBuild(c, b)
}

// downloadNewest serves the newest build for the platform its name gives: wcms-agent.exe
// (windows/amd64, what the published client fetches) or wcms-agent-<os>-<arch>, with an
// optional .exe for windows.
func (s *Server) downloadNewest(c echo.Context) error {
	name := c.Param("name")
	goos, arch, ok := downloadPlatform(name)
	if !ok {
		return newError(http.StatusNotFound, codeNotFound, "%q은(는) 받을 수 있는 파일이 아닙니다. wcms-agent-linux-amd64처럼 wcms-agent-<os>-<arch>를 요청하세요.",
			"no download %q: ask for wcms-agent-<os>-<arch>, such as wcms-agent-linux-amd64", name)
	}
	b, err := s.store.NewestAgentBuild(c.Request().Context(), goos, arch)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return s.serveBuild(c, b)
}

// downloadPlatform reads the platform out of a download name.
func downloadPlatform(name string) (goos, arch string, ok bool) {
	if name == "wcms-agent.exe" {
		return "windows", "amd64", true
	}
	rest, ok := strings.CutPrefix(name, "wcms-agent-")
	if !ok {
		return "", "", false
	}
	rest, exe := strings.CutSuffix(rest, ".exe")
	goos, arch, ok = strings.Cut(rest, "-")
	if !ok || exe && goos != "windows" || agentbuilds.CheckPlatform(goos, arch) != nil {
		return "", "", false
	}
	return goos, arch, true
}

// serveBuild sends a build's file with its hash and version in headers; http.ServeContent
// answers ranges and conditional requests, so an interrupted download can resume.
func (s *Server) serveBuild(c echo.Context, b *models.AgentBuild) error {
	f, err := s.builds.Open(c.Request().Context(), b)
	if err != nil {
		return err
	}
	defer f.Close()
	h := c.Response().Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": b.FileName()}))
	h.Set("X-Checksum-SHA256", b.SHA256)
	h.Set("X-Agent-Version", b.Version)
	h.Set("ETag", `"`+b.SHA256+`"`)
	http.ServeContent(c.Response(), c.Request(), b.FileName(), b.CreatedAt, f)
	return nil
}
