// Command wcms-agent is a stand-in for the real agent in the handlers' tests: a Go program whose
// package path ends in /wcms-agent, built with -ldflags "-X main.version=…". Run, it appends its
// arguments as one line to calls.txt beside itself (so an install script's calls can be checked)
// and exits with the status in STANDIN_EXIT, if set.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

var version string

func main() {
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	f, err := os.OpenFile(filepath.Join(filepath.Dir(exe), "calls.txt"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Fprintf(f, "%s %s\n", version, strings.Join(os.Args[1:], " "))
	f.Close()
	code, _ := strconv.Atoi(os.Getenv("STANDIN_EXIT"))
	os.Exit(code)
}
