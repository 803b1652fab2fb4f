package command

import (
	"net"
	"net/url"
	"regexp"
	"strings"
	"unicode"
)

// The formats are what the agent's tools can take on Windows and Linux (agent/execute): a
// value outside them would be refused on the PC after the admin was told it was sent.

const (
	maxMessage   = 512  // characters shown by msg.exe and wall
	maxField     = 256  // characters of a full name or comment
	maxPassword  = 127  // bytes: the longest password Windows accepts
	maxProcess   = 255  // bytes of a process name
	maxShellLine = 8191 // bytes: cmd.exe's longest command line
)

var (
	// Local account names both net user and useradd take, never an option.
	accountPattern = regexp.MustCompile(`^[A-Za-z0-9._][A-Za-z0-9._-]{0,19}$`)
	// Chocolatey, apt and dnf package ids (libstdc++6), never an option.
	packagePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$`)
	// ll-CC or ll_CC, as Set-WinUserLanguageList and locales need both parts.
	languagePattern = regexp.MustCompile(`^([A-Za-z]{2,3})[-_]([A-Za-z]{2})$`)
	// An absolute path on Windows (C:\, C:/, \\server\share) or on Linux (/).
	absolutePattern = regexp.MustCompile(`^([A-Za-z]:[\\/]|\\\\[^\\]|/)`)
)

// maxWake is how many PCs one wake_on_lan command wakes: a room and more.
const maxWake = 64

// macList accepts up to maxWake MAC addresses (aa:bb:cc:dd:ee:ff or with -), comma-separated.
func macList(s string) error {
	macs := strings.Split(s, ",")
	if len(macs) > maxWake {
		return problemf("MAC 주소는 %d개까지입니다", "must hold at most %d MAC addresses", maxWake)
	}
	for _, m := range macs {
		if hw, err := net.ParseMAC(strings.TrimSpace(m)); err != nil || len(hw) != 6 {
			return problemf("%q은(는) MAC 주소가 아닙니다 (예: 00:1a:2b:3c:4d:5e)", "%q is not a MAC address (e.g. 00:1a:2b:3c:4d:5e)", m)
		}
	}
	return nil
}

// ipv4 accepts an IPv4 address.
func ipv4(s string) error {
	if ip := net.ParseIP(s); ip == nil || ip.To4() == nil {
		return problem{"IPv4 주소여야 합니다 (예: 192.168.10.255)", "must be an IPv4 address (e.g. 192.168.10.255)"}
	}
	return nil
}

var errControl = problem{"제어 문자를 넣을 수 없습니다", "must not contain control characters"}

// atMostBytes and atMostChars are the problems of a value over its length; bytes where the
// PC's tool counts bytes, which the Korean tells in letters (a Hangul syllable is 3 bytes).
func atMostBytes(n int) error {
	return problemf("너무 깁니다: 영문 %[1]d자, 한글 %[2]d자까지입니다", "must be at most %[1]d bytes", n, n/3)
}

func atMostChars(n int) error {
	return problemf("%d자 이하여야 합니다", "must be at most %d characters", n)
}

func noControl(s string) error {
	if strings.ContainsFunc(s, unicode.IsControl) {
		return errControl
	}
	return nil
}

func accountName(s string) error {
	if !accountPattern.MatchString(s) {
		return problem{"영문자, 숫자, '.', '_', '-'로 1~20자여야 하고 '-'로 시작할 수 없습니다",
			"must be 1-20 letters, digits, '.', '_' or '-', not starting with '-'"}
	}
	return nil
}

func packageID(s string) error {
	if !packagePattern.MatchString(s) {
		return problem{"패키지 ID여야 합니다: 영문자, 숫자, '.', '_', '+', '-'로 100자까지, 영문자나 숫자로 시작",
			"must be a package id: letters, digits, '.', '_', '+' or '-', starting with a letter or digit, at most 100"}
	}
	return nil
}

func password(s string) error {
	if len(s) > maxPassword {
		return atMostBytes(maxPassword)
	}
	return noControl(s)
}

// processName accepts a bare program name: no path, and no wildcards, which taskkill would
// expand to every process.
func processName(s string) error {
	switch {
	case len(s) > maxProcess:
		return atMostBytes(maxProcess)
	case strings.ContainsAny(s, `/\`):
		return problem{"경로가 아닌 프로세스 이름이어야 합니다", "must be a process name, not a path"}
	case strings.ContainsAny(s, "*?"):
		return problem{"와일드카드(*, ?)를 넣을 수 없습니다", "must not contain wildcards"}
	case s[0] == '-':
		return problem{"'-'로 시작할 수 없습니다", "must not start with '-'"}
	}
	return noControl(s)
}

func shellCommand(s string) error {
	if len(s) > maxShellLine {
		return atMostBytes(maxShellLine)
	}
	if strings.ContainsRune(s, 0) {
		return problem{"NUL 문자를 넣을 수 없습니다", "must not contain NUL"}
	}
	return nil
}

// message accepts text for the users' screens: line breaks and tabs are fine.
func message(s string) error {
	if n := len([]rune(s)); n > maxMessage {
		return atMostChars(maxMessage)
	}
	return noControl(strings.NewReplacer("\n", "", "\r", "", "\t", "").Replace(s))
}

// accountField accepts a one-line account field (full name, comment).
func accountField(s string) error {
	if n := len([]rune(s)); n > maxField {
		return atMostChars(maxField)
	}
	return noControl(s)
}

func language(s string) error {
	if !languagePattern.MatchString(s) {
		return problem{"ko-KR 같은 언어 태그여야 합니다", "must be a language tag like ko-KR"}
	}
	return nil
}

// normalizeLanguage turns a valid "ko_kr" or "KO-KR" into "ko-KR".
func normalizeLanguage(s string) string {
	m := languagePattern.FindStringSubmatch(s)
	return strings.ToLower(m[1]) + "-" + strings.ToUpper(m[2])
}

func webURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return problem{"http:// 또는 https://로 시작하는 주소여야 합니다", "must be an http or https URL"}
	}
	return nil
}

// absolutePath accepts an absolute path of either OS; the agent also checks it is one of its
// own (fetch in agent/execute/execute.go).
func absolutePath(s string) error {
	if !absolutePattern.MatchString(s) {
		return problem{`절대 경로여야 합니다 (C:\... 또는 /...)`, `must be an absolute path (C:\... or /...)`}
	}
	return noControl(s)
}
