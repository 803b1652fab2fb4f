package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTick is Linux's USER_HZ, the unit of utime and stime in /proc/PID/stat. It is 100 on
// every mainstream architecture, and reading it properly (sysconf) would need cgo.
const clockTick = 100

// parseCPUTicks returns utime+stime from the contents of /proc/PID/stat.
func parseCPUTicks(stat []byte) (int64, error) {
	// The command name (field 2) is in parentheses and may itself hold spaces and parentheses,
	// so the fixed fields start after the last ')'.
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, errors.New("proc stat: no command name")
	}
	f := strings.Fields(string(stat[end+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("proc stat: %d fields after the name, want at least 13", len(f))
	}
	var total int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("proc stat: cpu time %q: %w", s, err)
		}
		total += n
	}
	return total, nil
}

// parsePeakRSS returns VmHWM, in bytes, from the contents of /proc/PID/status.
func parsePeakRSS(status []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("proc status: VmHWM %q: want \"N kB\"", rest)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("proc status: VmHWM: %w", err)
		}
		return kb * 1024, nil
	}
	return 0, errors.New("proc status: no VmHWM line")
}

// cpuTime reads the CPU time a process has used so far.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("process cpu: %w", err)
	}
	ticks, err := parseCPUTicks(b)
	if err != nil {
		return 0, fmt.Errorf("process cpu: %w", err)
	}
	return time.Duration(ticks) * time.Second / clockTick, nil
}

// cpuTimes reads this process's CPU time and, when pid is not 0, that of process pid.
func cpuTimes(pid int) (self, other time.Duration, err error) {
	if self, err = cpuTime(os.Getpid()); err != nil || pid == 0 {
		return self, 0, err
	}
	other, err = cpuTime(pid)
	return self, other, err
}

// peakRSS reads a process's peak resident memory in bytes.
func peakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("process rss: %w", err)
	}
	n, err := parsePeakRSS(b)
	if err != nil {
		return 0, fmt.Errorf("process rss: %w", err)
	}
	return n, nil
}
