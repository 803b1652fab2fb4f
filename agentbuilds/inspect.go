package agentbuilds

import (
	"debug/buildinfo"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/wcms-lab/wcms/models"
)

// agentModule is the module every agent build must come from.
const agentModule = "github.com/wcms-lab/wcms"

// The platforms agents are built for, named as GOOS and GOARCH name them.
var (
	OSes   = []string{"windows", "linux"}
	Arches = []string{"amd64", "arm64", "386"}
)

// CheckPlatform refuses an OS or architecture no agent is built for.
func CheckPlatform(goos, arch string) error {
	if !slices.Contains(OSes, goos) {
		return fmt.Errorf("os must be one of %s, not %q", strings.Join(OSes, ", "), goos)
	}
	if !slices.Contains(Arches, arch) {
		return fmt.Errorf("arch must be one of %s, not %q", strings.Join(Arches, ", "), arch)
	}
	return nil
}

// Refused is a file that is no build the server may hand out; its message says why, and what
// to build instead, in English (Reason) and Korean for the upload page.
type Refused struct{ Reason, Korean string }

func (r *Refused) Error() string { return r.Reason }

// refuse takes the Korean and English formats, which take the same arguments (the Korean one
// picks them with %[n] where its word order differs, or where it leaves one out).
func refuse(ko, en string, args ...any) error {
	return &Refused{Reason: fmt.Sprintf(en, args...), Korean: fmt.Sprintf(ko, args...)}
}

// ErrNotGoBinary is told apart from the other refusals: the scan at start skips such files
// quietly, since bin/ also holds the builds' checksum files.
var ErrNotGoBinary error = &Refused{Reason: "not a Go binary: upload a wcms-agent build",
	Korean: "Go 프로그램이 아닙니다. wcms-agent 빌드를 올리세요."}

// Inspect reads what a binary says about itself (debug/buildinfo reads Windows builds
// on any OS too): it must be this project's wcms-agent, with a semantic version stamped by
// -ldflags "-X main.version=…", for a platform agents run on.
func Inspect(r io.ReaderAt) (models.AgentBuild, error) {
	var b models.AgentBuild
	bi, err := buildinfo.Read(r)
	if err != nil {
		return b, ErrNotGoBinary
	}
	if bi.Main.Path != agentModule || !strings.HasPrefix(bi.Path, agentModule+"/") || !strings.HasSuffix(bi.Path, "/wcms-agent") {
		return b, refuse("wcms-agent 빌드가 아닙니다. 이 파일은 모듈 %[2]s의 %[1]s입니다. %[3]s/cmd/wcms-agent를 빌드하세요.",
			"not a wcms-agent build: the program is %s of module %s; build %s/cmd/wcms-agent",
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
			return b, refuse("버전을 읽을 수 없습니다. -trimpath로 만든 빌드에는 -ldflags(-X main.version=…)가 남지 않으니 -trimpath 없이 빌드하세요.",
				`no version readable: the build was made with -trimpath, which keeps -ldflags (and so -X main.version=…) out of its build information; build it without -trimpath`)
		}
		return b, refuse(`빌드에 버전이 없습니다. -ldflags "-X main.version=1.2.3"으로 빌드하세요.`,
			`no version stamped in the build: build it with -ldflags "-X main.version=1.2.3"`)
	}
	if !models.IsVersion(b.Version) {
		return b, refuse("빌드의 버전 %q은(는) 1.2.3 같은 시맨틱 버전이 아닙니다.",
			"the version stamped in the build, %q, is not a semantic version such as 1.2.3", b.Version)
	}
	if err := CheckPlatform(b.OS, b.Arch); err != nil {
		return b, refuse("%[1]s/%[2]s용 빌드는 배포하지 않습니다. 운영체제는 "+strings.Join(OSes, ", ")+", 아키텍처는 "+
			strings.Join(Arches, ", ")+" 중 하나여야 합니다.", "a build for %s/%s is not served: %s", b.OS, b.Arch, err.Error())
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
