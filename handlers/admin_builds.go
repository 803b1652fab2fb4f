package handlers

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wcms-lab/wcms/agentbuilds"
	"github.com/wcms-lab/wcms/models"
)

const (
	// agentBuildsRoute (under /api/admin) lists builds, and takes uploads; with the agents page
	// (which takes uploads from its form) the only routes allowed a body over Config.MaxBody.
	agentBuildsRoute = "/agent-builds"
	agentsPath       = "/agents"
	// uploadTimeout replaces the server's read timeout for an upload over a slow link.
	uploadTimeout = 15 * time.Minute
	// maxChangelog bounds an upload's changelog field.
	maxChangelog = 64 << 10
)

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
		return nil, badRequest(codeInvalidField, "빌드 파일을 multipart/form-data의 file 필드로 보내세요", "send the build as multipart/form-data with a file field")
	}
	var staged *agentbuilds.Staged
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
				return nil, badRequest(codeInvalidField, "한 번에 파일 하나만 올리세요", "send one file per upload")
			}
			if staged, err = s.builds.Stage(part); err != nil {
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
				return nil, badRequest(codeInvalidField, "변경 내용이 너무 깁니다: 영문 %[1]d자, 한글 %[2]d자까지입니다",
					"changelog must be at most %[1]d bytes", maxChangelog, maxChangelog/3)
			}
			changelog = strings.TrimSpace(string(text))
		}
	}
	if staged == nil {
		return nil, badRequest(codeMissingField, "wcms-agent 실행 파일을 고르세요", "file is required: the wcms-agent binary")
	}
	ctx := c.Request().Context()
	b, err := s.builds.Add(ctx, staged, changelog, currentAdmin(c).Username)
	if errors.Is(err, models.ErrDuplicate) {
		if old, err := s.store.AgentBuildBySHA256(ctx, staged.SHA256); err == nil {
			return nil, newError(http.StatusConflict, codeConflict, "이미 등록된 빌드입니다: 빌드 %d, 버전 %s, %s/%s",
				"this build is registered already: build %d, version %s for %s/%s",
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
	return badRequest(codeInvalidField, "올린 파일이 중간에 끊겼거나 형식이 틀렸습니다. 다시 올리세요. (%v)", "the multipart body is incomplete or malformed: %v", err)
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
	b, err := s.builds.Delete(c.Request().Context(), id)
	if err != nil {
		return nil, err
	}
	s.log.Info("agent build deleted", "id", b.ID, "version", b.Version, "os", b.OS, "arch", b.Arch, "by", currentAdmin(c).Username)
	return b, nil
}
