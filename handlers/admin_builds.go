package handlers

import (
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wcms-lab/wcms/models"
)

const (
	// agentModule is the module every agent build must come from.
	agentModule = "github.com/wcms-lab/wcms"
	// agentBuildsRoute (under /api/admin) lists builds, and takes uploads; with the agents page
	// (which takes uploads from its form) the only routes allowed a body over Config.MaxBody.
	agentBuildsRoute = "/agent-builds"
	agentsPath       = "/agents"
	// uploadTimeout replaces the server's read timeout for an upload over a slow link.
	uploadTimeout = 15 * time.Minute
	// maxChangelog bounds an upload's changelog field.
	maxChangelog = 64 << 10

	codeInvalidBuild = "INVALID_BUILD"
)

// The platforms agents are built for, named as GOOS and GOARCH name them.
var (
	agentOSes   = []string{"windows", "linux"}
	agentArches = []string{"amd64", "arm64", "386"}
)

// checkPlatform refuses an OS or architecture no agent is built for.
func checkPlatform(goos, arch string) error {
	if !slices.Contains(agentOSes, goos) {
		return badRequest(codeInvalidField, "os must be one of %s, not %q", strings.Join(agentOSes, ", "), goos)
	}
	if !slices.Contains(agentArches, arch) {
		return badRequest(codeInvalidField, "arch must be one of %s, not %q", strings.Join(agentArches, ", "), arch)
	}
	return nil
}

// errNotGoBinary is told apart from the other refusals: the scan at start skips such files
// quietly, since bin/ also holds the builds' checksum files.
var errNotGoBinary = badRequest(codeInvalidBuild, "not a Go binary: upload a wcms-agent build")

// inspectAgentBuild reads what a binary says about itself (debug/buildinfo reads Windows builds
// on any OS too): it must be this project's wcms-agent, with a semantic version stamped by
// -ldflags "-X main.version=…", for a platform agents run on.
func inspectAgentBuild(r io.ReaderAt) (models.AgentBuild, error) {
	var b models.AgentBuild
	bi, err := buildinfo.Read(r)
	if err != nil {
		return b, errNotGoBinary
	}
	if bi.Main.Path != agentModule || !strings.HasPrefix(bi.Path, agentModule+"/") || !strings.HasSuffix(bi.Path, "/wcms-agent") {
		return b, badRequest(codeInvalidBuild, "not a wcms-agent build: the program is %s of module %s; build %s/cmd/wcms-agent",
			bi.Path, bi.Main.Path, agentModule)
	}
	settings := make(map[string]string, len(bi.Settings))
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	b.Version, b.OS, b.Arch = ldflagsVersion(settings["-ldflags"]), settings["GOOS"], settings["GOARCH"]
	if b.Version == "" {
		if _, recorded := settings["-ldflags"]; !recorded && settings["-trimpath"] == "true" {
			// The go command leaves -ldflags out of the build information of a -trimpath build.
			return b, badRequest(codeInvalidBuild, `no version readable: the build was made with -trimpath, which keeps -ldflags (and so -X main.version=…) out of its build information; build it without -trimpath`)
		}
		return b, badRequest(codeInvalidBuild, `no version stamped in the build: build it with -ldflags "-X main.version=1.2.3"`)
	}
	if !models.IsVersion(b.Version) {
		return b, badRequest(codeInvalidBuild, "the version stamped in the build, %q, is not a semantic version such as 1.2.3", b.Version)
	}
	if err := checkPlatform(b.OS, b.Arch); err != nil {
		return b, badRequest(codeInvalidBuild, "a build for %s/%s is not served: %s", b.OS, b.Arch, err.Error())
	}
	return b, nil
}

// ldflagsVersion returns the value linker flags give main.version, or "" when they give none.
// The last -X wins, as in the linker.
func ldflagsVersion(ldflags string) string {
	fields := splitQuoted(ldflags)
	version := ""
	for i := 0; i < len(fields); i++ {
		if !strings.HasPrefix(fields[i], "-") {
			continue
		}
		// The linker's flag package takes -X and --X, with the value after "=" or as the next field.
		name, value, inline := strings.Cut(strings.TrimPrefix(fields[i][1:], "-"), "=")
		if name != "X" {
			continue
		}
		if !inline {
			if i+1 == len(fields) {
				break
			}
			i++
			value = fields[i]
		}
		if v, ok := strings.CutPrefix(value, "main.version="); ok {
			version = v
		}
	}
	return version
}

// splitQuoted splits flags as the go command splits -ldflags: on white space, with '…' or "…"
// around a field that holds spaces; nothing is unescaped inside quotes.
func splitQuoted(s string) []string {
	var fields []string
	for {
		s = strings.TrimLeft(s, " \t\r\n")
		if s == "" {
			return fields
		}
		if q := s[0]; q == '\'' || q == '"' {
			end := strings.IndexByte(s[1:], q)
			if end < 0 {
				// The go command refuses an unterminated quote, so no build carries one.
				return append(fields, s[1:])
			}
			fields = append(fields, s[1:1+end])
			s = s[2+end:]
			continue
		}
		end := strings.IndexAny(s, " \t\r\n")
		if end < 0 {
			end = len(s)
		}
		fields = append(fields, s[:end])
		s = s[end:]
	}
}

// addAgentBuild inspects a staged build and registers it.
func addAgentBuild(ctx context.Context, store *models.Store, sb *models.StagedBuild, changelog, by string) (*models.AgentBuild, error) {
	b, err := inspectAgentBuild(sb)
	if err != nil {
		return nil, err
	}
	b.Changelog, b.CreatedBy = changelog, by
	if err := store.AddAgentBuild(ctx, &b, sb, time.Now()); err != nil {
		return nil, err
	}
	return &b, nil
}

type buildJSON struct {
	ID          int64     `json:"id"`
	Version     string    `json:"version"`
	OS          string    `json:"os"`
	Arch        string    `json:"arch"`
	SHA256      string    `json:"sha256"`
	Size        int64     `json:"size"`
	Changelog   string    `json:"changelog"`
	CreatedAt   time.Time `json:"created_at"`
	CreatedBy   string    `json:"created_by"`
	DownloadURL string    `json:"download_url"`
}

func toBuildJSON(b *models.AgentBuild, base string) buildJSON {
	return buildJSON{ID: b.ID, Version: b.Version, OS: b.OS, Arch: b.Arch, SHA256: b.SHA256, Size: b.Size,
		Changelog: b.Changelog, CreatedAt: ts(b.CreatedAt), CreatedBy: b.CreatedBy, DownloadURL: buildURL(base, b)}
}

// uploadAgentBuild registers an agent build sent as a multipart form: file, optional changelog.
func (s *Server) uploadAgentBuild(c echo.Context) error {
	b, err := s.receiveAgentBuild(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, buildAnswer{success, toBuildJSON(b, s.baseURL(c))})
}

// receiveAgentBuild reads an upload (multipart form: file, optional changelog), checks it and
// registers it; the API and the agents page both take uploads through it. The file streams into
// the build folder while it is hashed; nothing holds it whole in memory.
func (s *Server) receiveAgentBuild(c echo.Context) (*models.AgentBuild, error) {
	// The error only says the connection cannot extend its deadline (not a real network one);
	// the upload then has the server's read timeout, as every request does.
	_ = http.NewResponseController(c.Response()).SetReadDeadline(time.Now().Add(uploadTimeout))
	mr, err := c.Request().MultipartReader()
	if err != nil {
		return nil, badRequest(codeInvalidField, "send the build as multipart/form-data with a file field")
	}
	var staged *models.StagedBuild
	defer func() {
		if staged != nil {
			staged.Discard()
		}
	}()
	changelog := ""
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, badUpload(err)
		}
		switch part.FormName() {
		case "file":
			if staged != nil {
				return nil, badRequest(codeInvalidField, "send one file per upload")
			}
			if staged, err = s.store.StageAgentBuild(part); err != nil {
				if errors.Is(err, echo.ErrStatusRequestEntityTooLarge) || errors.Is(err, io.ErrUnexpectedEOF) {
					return nil, badUpload(err)
				}
				return nil, err // the disk's fault
			}
		case "changelog":
			text, err := io.ReadAll(io.LimitReader(part, maxChangelog+1))
			if err != nil {
				return nil, badUpload(err)
			}
			if len(text) > maxChangelog {
				return nil, badRequest(codeInvalidField, "changelog must be at most %d bytes", maxChangelog)
			}
			changelog = strings.TrimSpace(string(text))
		}
	}
	if staged == nil {
		return nil, badRequest(codeMissingField, "file is required: the wcms-agent binary")
	}
	ctx := c.Request().Context()
	b, err := addAgentBuild(ctx, s.store, staged, changelog, currentAdmin(c).Username)
	if errors.Is(err, models.ErrDuplicate) {
		if old, err := s.store.AgentBuildBySHA256(ctx, staged.SHA256); err == nil {
			return nil, newError(http.StatusConflict, codeConflict, "this build is registered already: build %d, version %s for %s/%s",
				old.ID, old.Version, old.OS, old.Arch)
		}
	}
	if err != nil {
		return nil, err
	}
	s.log.Info("agent build uploaded", "id", b.ID, "version", b.Version, "os", b.OS, "arch", b.Arch,
		"sha256", b.SHA256, "by", b.CreatedBy)
	return b, nil
}

// badUpload maps a failure to read the upload: over the limit is 413, anything else (a body
// cut short or garbled) the client's 400.
func badUpload(err error) error {
	if errors.Is(err, echo.ErrStatusRequestEntityTooLarge) {
		return err
	}
	return badRequest(codeInvalidField, "the multipart body is incomplete or malformed: %v", err)
}

// listAgentBuilds lists every registered build, newest registered first.
func (s *Server) listAgentBuilds(c echo.Context) error {
	bs, err := s.store.ListAgentBuilds(c.Request().Context())
	if err != nil {
		return err
	}
	base := s.baseURL(c)
	out := make([]buildJSON, len(bs))
	for i := range bs {
		out[i] = toBuildJSON(&bs[i], base)
	}
	return c.JSON(http.StatusOK, buildsAnswer{success, out})
}

// deleteAgentBuild removes a build, row and file; agents then get the next newest.
func (s *Server) deleteAgentBuild(c echo.Context) error {
	if _, err := s.removeAgentBuild(c); err != nil {
		return err
	}
	return done(c, "Agent build deleted successfully")
}

// removeAgentBuild deletes the build of the path's id; the API and the agents page both delete
// through it.
func (s *Server) removeAgentBuild(c echo.Context) (*models.AgentBuild, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return nil, err
	}
	b, err := s.store.DeleteAgentBuild(c.Request().Context(), id)
	if err != nil {
		return nil, err
	}
	s.log.Info("agent build deleted", "id", b.ID, "version", b.Version, "os", b.OS, "arch", b.Arch, "by", currentAdmin(c).Username)
	return b, nil
}

// RegisterAgentBuilds registers, at start, every wcms-agent* file in dir that is an agent build
// not registered yet, so that `make build` and a start serve the fresh builds. A missing dir is
// nothing to do; a file that is no usable build is skipped with a log line.
func RegisterAgentBuilds(ctx context.Context, store *models.Store, dir string, log *slog.Logger) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("agent builds: %w", err)
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "wcms-agent") {
			continue
		}
		if err := registerAgentFile(ctx, store, filepath.Join(dir, e.Name()), log); err != nil {
			return err
		}
	}
	return nil
}

func registerAgentFile(ctx context.Context, store *models.Store, path string, log *slog.Logger) error {
	f, err := os.Open(path)
	if err != nil {
		log.Warn("agent build skipped", "file", path, "err", err)
		return nil
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return nil
	}
	sb, err := store.StageAgentBuild(f)
	if err != nil {
		return fmt.Errorf("agent builds: %s: %w", path, err)
	}
	defer sb.Discard()
	b, err := addAgentBuild(ctx, store, sb, "", "agent-dir")
	var ae *apiError
	switch {
	case err == nil:
		log.Info("agent build registered", "file", path, "id", b.ID, "version", b.Version, "os", b.OS, "arch", b.Arch, "sha256", b.SHA256)
	case errors.Is(err, models.ErrDuplicate): // registered at an earlier start
	case errors.Is(err, errNotGoBinary):
		log.Debug("agent build skipped", "file", path, "reason", "not a Go binary")
	case errors.As(err, &ae):
		log.Warn("agent build skipped", "file", path, "reason", ae.Message)
	default:
		return fmt.Errorf("agent builds: %s: %w", path, err)
	}
	return nil
}
