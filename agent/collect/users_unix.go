//go:build unix

package collect

import (
	"context"
	"fmt"
	"regexp"

	"github.com/shirou/gopsutil/v4/host"
)

// consoleUser is the user at the PC's screen and keyboard, "" when nobody is logged on there.
func consoleUser(ctx context.Context) (string, error) {
	users, err := host.UsersWithContext(ctx)
	if err != nil {
		return "", fmt.Errorf("logged-on users: %w", err)
	}
	return pickConsoleUser(users), nil
}

var (
	// display is an X display such as ":0" or ":1.0".
	display = regexp.MustCompile(`^:\d+(\.\d+)?$`)
	// localTTY is a virtual console: tty1…tty63, or "console" on the BSDs and macOS.
	localTTY = regexp.MustCompile(`^(tty\d+|ttyv\w+|console)$`)
)

// sessionRank orders login sessions by how surely they are the person at the console:
// a graphical seat, then a text console, then a pseudo-terminal with no remote host (a terminal
// window, tmux). Remote sessions (ssh) rank 0: they are never the console user.
func sessionRank(u host.UserStat) int {
	switch {
	case u.User == "":
		return 0
	case display.MatchString(u.Terminal), display.MatchString(u.Host), u.Terminal == "seat0":
		return 3
	case localTTY.MatchString(u.Terminal) && (u.Host == "" || u.Host == u.Terminal):
		return 2
	case u.Host == "":
		return 1
	}
	return 0
}

// pickConsoleUser chooses the console user from utmp-like session records: the best-ranked
// session, the latest among equals (fast user switching); "" when only remote sessions exist.
func pickConsoleUser(users []host.UserStat) string {
	var best host.UserStat
	bestRank := 0
	for _, u := range users {
		rank := sessionRank(u)
		if rank > bestRank || (rank > 0 && rank == bestRank && u.Started > best.Started) {
			best, bestRank = u, rank
		}
	}
	return best.User
}
