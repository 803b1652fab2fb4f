//go:build unix

package collect

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/shirou/gopsutil/v4/disk"
)

func TestFixedPartitions(t *testing.T) {
	tests := []struct {
		file      string
		removable []string // devices the kernel marks removable
		want      []string // mount points kept
	}{
		// Captured from a Debian 12 VM (one unrelated tmpfs left out).
		{"debian-vm.json", nil, []string{"/"}},
		// Snaps, a USB stick and a DVD under /media, FUSE mounts, / bind-mounted again, and the
		// dual-boot Windows partition through ntfs-3g (fuseblk), which is a local disk.
		{"ubuntu-desktop.json", []string{"/dev/sda1"}, []string{"/", "/boot/efi", "/mnt/windows"}},
		// /home is a btrfs subvolume of the root device; a USB disk mounted by hand under /mnt.
		{"fedora-btrfs.json", []string{"/dev/sdc1"}, []string{"/", "/boot", "/boot/efi"}},
		// LVM, a second disk, ZFS, and NFS, Docker and sshfs mounts to skip.
		{"lab-server.json", nil, []string{"/", "/zfs", "/boot", "/data", "/home"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "partitions", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			var parts []disk.PartitionStat
			if err := json.Unmarshal(data, &parts); err != nil {
				t.Fatal(err)
			}
			removable := func(device string) bool { return slices.Contains(tt.removable, device) }
			var got []string
			for _, p := range fixedPartitions(parts, removable) {
				got = append(got, p.Mountpoint)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("fixedPartitions kept %q, want %q", got, tt.want)
			}
		})
	}
}
