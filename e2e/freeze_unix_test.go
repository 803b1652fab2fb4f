//go:build !windows

package e2e

import "syscall"

// freeze stops the process without closing its connections, as a hung server would be; thaw
// lets it go on.
func (p *proc) freeze() { p.signal(syscall.SIGSTOP) }
func (p *proc) thaw()   { p.signal(syscall.SIGCONT) }
