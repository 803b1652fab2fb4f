package views

import "time"

// CommandView is one command as the pages show it.
type CommandView struct {
	ID           int64
	PCID         int64
	Hostname     string
	Type         string
	Summary      string // the parameters in a line, secrets removed
	Status       string // pending, executing, completed, error, timeout, expired
	Output       string
	ErrorMessage string
	ExitCode     *int
	CreatedBy    string
	CreatedAt    time.Time
	CompletedAt  *time.Time
	ExpiresAt    *time.Time // a pending one waits for its PC until then
}

// statusBadge is a command status's badge class.
func statusBadge(status string) string {
	switch status {
	case "completed":
		return "badge ok"
	case "error", "timeout", "expired":
		return "badge bad"
	case "executing":
		return "badge warn"
	}
	return "badge off"
}

// statusText names a command status in the page language's terms.
func statusText(status string) (ko, en string) {
	switch status {
	case "pending":
		return "대기", "pending"
	case "executing":
		return "실행 중", "running"
	case "completed":
		return "완료", "done"
	case "error":
		return "오류", "error"
	case "timeout":
		return "시간 초과", "timed out"
	case "expired":
		return "만료", "expired"
	}
	return status, status
}

func statusTextKO(status string) string { ko, _ := statusText(status); return ko }
func statusTextEN(status string) string { _, en := statusText(status); return en }
