package e2e

// Windows cannot stop a process and let it go on by signal; the browser tests that freeze the
// server run on Linux (.ci/run).
func (p *proc) freeze() { panic("freeze: no SIGSTOP on Windows") }
func (p *proc) thaw()   { panic("thaw: no SIGCONT on Windows") }
