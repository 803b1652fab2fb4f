package main

import (
	"os"
	"os/exec"
)

// reexec starts exe with this process's arguments and console, then ends this process: Windows
// has no exec(2).
func reexec(exe string, args []string) error {
	cmd := exec.Command(exe, args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	os.Exit(0)
	return nil
}
