//go:build unix && !linux

package collect

import (
	"context"
	"errors"
	"strings"

	"github.com/shirou/gopsutil/v4/host"
)

// machineID is the OS's host id (IOPlatformUUID on macOS, kern.hostuuid on the BSDs).
func machineID(ctx context.Context) (string, error) {
	return host.HostIDWithContext(ctx)
}

func osEdition(ctx context.Context) (string, error) {
	platform, _, version, err := host.PlatformInformationWithContext(ctx)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(platform + " " + version), nil
}

func osVersion(ctx context.Context) (string, error) {
	return host.KernelVersionWithContext(ctx)
}

// isRemovable reports false: these systems offer no cheap removable flag, and their desktops
// mount plugged-in media under the directories fixedPartitions already skips.
func isRemovable(string) bool { return false }

// systemUUID is not read here: these systems are not lab PCs, and the OS id and MACs remain.
func systemUUID(context.Context) (string, error) {
	return "", errors.New("smbios: the system UUID is read on Windows and Linux only")
}
