package collect

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/shirou/gopsutil/v4/host"
)

// machineID reads systemd's machine id, or D-Bus's copy of it on systems without systemd.
func machineID(context.Context) (string, error) {
	return firstFile([]string{"/etc/machine-id", "/var/lib/dbus/machine-id"}, "is empty",
		func(data []byte) string { return strings.TrimSpace(string(data)) })
}

// osEdition is the distribution's PRETTY_NAME, e.g. "Ubuntu 24.04.1 LTS".
func osEdition(context.Context) (string, error) {
	return firstFile([]string{"/etc/os-release", "/usr/lib/os-release"}, "names no distribution", parseOSRelease)
}

// firstFile returns what parse finds in the first of paths that it finds something in. When none
// has it, the error says for each file why: unreadable, or (in the words of lacks) not holding it.
func firstFile(paths []string, lacks string, parse func([]byte) string) (string, error) {
	var errs []error
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if v := parse(data); v != "" {
			return v, nil
		}
		errs = append(errs, fmt.Errorf("%s %s", path, lacks))
	}
	return "", errors.Join(errs...)
}

// osVersion is the kernel release, e.g. "6.8.0-45-generic".
func osVersion(ctx context.Context) (string, error) {
	return host.KernelVersionWithContext(ctx)
}

// parseOSRelease returns the distribution's name from os-release(5) content: PRETTY_NAME, or
// NAME and VERSION when it has none.
func parseOSRelease(data []byte) string {
	vars := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		key, value, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		vars[key] = unquoteShell(value)
	}
	if name := vars["PRETTY_NAME"]; name != "" {
		return name
	}
	return strings.TrimSpace(vars["NAME"] + " " + vars["VERSION"])
}

// unquoteShell undoes the shell-style quoting os-release allows: '…' taken literally, "…" where
// a backslash escapes one of " \ $ `, or a bare word.
func unquoteShell(s string) string {
	if len(s) < 2 || s[0] != s[len(s)-1] {
		return s
	}
	inner := s[1 : len(s)-1]
	switch s[0] {
	case '\'':
		return inner
	case '"':
		var b strings.Builder
		for i := 0; i < len(inner); i++ {
			if inner[i] == '\\' && i+1 < len(inner) && strings.IndexByte(`"\$`+"`", inner[i+1]) >= 0 {
				i++
			}
			b.WriteByte(inner[i])
		}
		return b.String()
	}
	return s
}

// isRemovable reports whether a block device (a disk or one of its partitions) is marked
// removable by the kernel, as USB sticks and card readers are.
func isRemovable(device string) bool {
	sys, err := filepath.EvalSymlinks(filepath.Join("/sys/class/block", filepath.Base(device)))
	if err != nil {
		return false
	}
	// A partition's flag sits on its parent disk, one directory up.
	for _, dir := range []string{sys, filepath.Dir(sys)} {
		if data, err := os.ReadFile(filepath.Join(dir, "removable")); err == nil {
			return strings.TrimSpace(string(data)) == "1"
		}
	}
	return false
}

// systemUUID is the SMBIOS system UUID, which the kernel lets only root read.
func systemUUID(context.Context) (string, error) {
	data, err := os.ReadFile("/sys/class/dmi/id/product_uuid")
	if err != nil {
		return "", err
	}
	return parseUUIDText(string(data))
}
