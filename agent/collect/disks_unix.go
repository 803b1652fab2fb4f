//go:build unix

package collect

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/shirou/gopsutil/v4/disk"
)

// virtualFS are file systems that are not local disks.
var virtualFS = map[string]bool{
	// kernel interfaces, memory and images
	"autofs": true, "binfmt_misc": true, "bpf": true, "cgroup": true, "cgroup2": true,
	"configfs": true, "debugfs": true, "devfs": true, "devpts": true, "devtmpfs": true,
	"efivarfs": true, "fusectl": true, "hugetlbfs": true, "mqueue": true, "nsfs": true,
	"overlay": true, "proc": true, "pstore": true, "ramfs": true, "rpc_pipefs": true,
	"securityfs": true, "selinuxfs": true, "squashfs": true, "sysfs": true, "tmpfs": true,
	"tracefs": true,
	// network shares
	"afpfs": true, "ceph": true, "cifs": true, "fuse": true, "glusterfs": true, "ncpfs": true,
	"nfs": true, "nfs4": true, "smb3": true, "smbfs": true, "sshfs": true, "9p": true,
	// optical media
	"iso9660": true, "udf": true,
}

// mediaDirs are where desktops mount plugged-in media (udisks on Linux, macOS's /Volumes):
// whatever sits there is not one of the PC's own disks, even a USB disk not marked removable.
var mediaDirs = []string{"/media/", "/run/media/", "/Volumes/"}

// fixedDisks lists the PC's own disks with their size and usage.
func fixedDisks(ctx context.Context) ([]volume, error) {
	parts, err := disk.PartitionsWithContext(ctx, true)
	if err != nil && len(parts) == 0 {
		return nil, fmt.Errorf("disk partitions: %w", err)
	}
	var vols []volume
	for _, p := range fixedPartitions(parts, isRemovable) {
		u, err := disk.UsageWithContext(ctx, p.Mountpoint)
		if err != nil || u.Total == 0 {
			continue // unmounted meanwhile, or not readable: not worth failing the rest
		}
		vols = append(vols, volume{
			mount:   p.Mountpoint,
			fstype:  p.Fstype,
			total:   u.Total,
			used:    u.Used,
			free:    u.Free,
			percent: u.UsedPercent,
		})
	}
	return vols, ctx.Err()
}

// fixedPartitions keeps the mounts of local, non-removable block devices, each device once
// (at its shortest mount point: "/" rather than a bind mount or a btrfs subvolume of it).
func fixedPartitions(parts []disk.PartitionStat, removable func(device string) bool) []disk.PartitionStat {
	kept := slices.DeleteFunc(slices.Clone(parts), func(p disk.PartitionStat) bool { return !isFixed(p, removable) })
	slices.SortStableFunc(kept, func(a, b disk.PartitionStat) int {
		return cmp.Or(cmp.Compare(len(a.Mountpoint), len(b.Mountpoint)), strings.Compare(a.Mountpoint, b.Mountpoint))
	})
	seen := map[string]bool{}
	return slices.DeleteFunc(kept, func(p disk.PartitionStat) bool {
		dup := seen[p.Device]
		seen[p.Device] = true
		return dup
	})
}

func isFixed(p disk.PartitionStat, removable func(device string) bool) bool {
	switch {
	case virtualFS[p.Fstype], strings.HasPrefix(p.Fstype, "fuse."): // fuse.sshfs, fuse.gvfsd-fuse…
		return false
	case slices.ContainsFunc(mediaDirs, func(dir string) bool { return strings.HasPrefix(p.Mountpoint, dir) }):
		return false
	case p.Fstype == "zfs": // names a dataset, not a device
		return true
	case !strings.HasPrefix(p.Device, "/dev/"), strings.HasPrefix(p.Device, "/dev/loop"): // loop: disk images, e.g. snaps
		return false
	}
	return !removable(p.Device)
}
