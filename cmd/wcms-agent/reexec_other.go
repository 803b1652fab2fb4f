//go:build !windows

package main

import (
	"os"
	"syscall"
)

// reexec replaces this process with exe, keeping its arguments, environment and PID.
func reexec(exe string, args []string) error {
	return syscall.Exec(exe, args, os.Environ())
}
