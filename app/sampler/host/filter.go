package host

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shirou/gopsutil/v4/disk"
)

// realFilesystems keeps the mounts whose usage means something to a user (see keepFilesystem),
// one per device (the one with the shortest mount point: bind mounts and btrfs subvolumes of
// the same device report the same usage), sorted by mount point.
func realFilesystems(parts []disk.PartitionStat) []disk.PartitionStat {
	byDevice := make(map[string]disk.PartitionStat, len(parts))
	for _, p := range parts {
		if !keepFilesystem(p) {
			continue
		}
		if old, ok := byDevice[p.Device]; ok && len(old.Mountpoint) <= len(p.Mountpoint) {
			continue
		}
		byDevice[p.Device] = p
	}
	out := make([]disk.PartitionStat, 0, len(byDevice))
	for _, p := range byDevice {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b disk.PartitionStat) int { return cmp.Compare(a.Mountpoint, b.Mountpoint) })
	return out
}

// keepFilesystem reports whether a mount holds user data: not a pseudo or in-memory filesystem
// (proc, sysfs, cgroup, tmpfs, devtmpfs, ...), not a read-only image (squashfs, snaps, loop
// devices), not a bind mount, not a container's layer. An overlay is kept only at "/", where it
// is the root of the container redwatch runs in.
func keepFilesystem(p disk.PartitionStat) bool {
	if slices.Contains(p.Opts, "bind") || strings.HasPrefix(p.Device, "/dev/loop") {
		return false
	}
	switch p.Fstype {
	case "overlay", "aufs", "fuse-overlayfs":
		return p.Mountpoint == "/"
	case "autofs", "binfmt_misc", "bpf", "cgroup", "cgroup2", "configfs", "debugfs", "devpts",
		"devtmpfs", "efivarfs", "erofs", "fusectl", "hugetlbfs", "iso9660", "mqueue", "nfsd",
		"nsfs", "proc", "procfs", "pstore", "ramfs", "rpc_pipefs", "securityfs", "selinuxfs",
		"squashfs", "sysfs", "tmpfs", "tracefs", "fuse.lxcfs", "fuse.gvfsd-fuse", "fuse.portal",
		"fuse.snapfuse", "fuse.squashfuse", "":
		return false
	}
	for _, dir := range []string{
		"/proc", "/sys", "/dev", "/run/credentials", "/snap",
		"/var/lib/docker", "/var/lib/containers/storage", "/var/lib/kubelet/pods",
	} {
		if p.Mountpoint == dir || strings.HasPrefix(p.Mountpoint, dir+"/") {
			return false
		}
	}
	return true
}

// partitionOrVirtualDevice matches the block devices whose IO is either counted again on their
// parent (partitions: sda1, vda2, xvdb1, nvme0n1p1, mmcblk0p1) or is not disk IO at all (loop,
// ram, zram, floppies).
var partitionOrVirtualDevice = regexp.MustCompile(`^(z?ram\d+|loop\d+|fd\d+|(h|s|v|xv)d[a-z]+\d+|nvme\d+n\d+p\d+|mmcblk\d+p\d+)$`)

// keepDiskDevice reports whether the IO counters of a kernel block device are reported: whole
// disks (sda, vda, nvme0n1), device-mapper volumes (dm-0), md arrays; not partitions, loop or
// ram devices.
func keepDiskDevice(name string) bool {
	return !partitionOrVirtualDevice.MatchString(name)
}

// stuckMounts remembers the mount points whose statfs call has not returned, so that a hung
// network filesystem costs one timeout, not one per round. Safe for concurrent use.
type stuckMounts struct {
	mu      sync.Mutex
	pending map[string]struct{}
}

// usage returns disk.Usage(path), or an error after timeout. The statfs call keeps running in
// its goroutine after a timeout (a syscall cannot be cancelled); until it returns, usage fails
// at once for that path.
func (m *stuckMounts) usage(ctx context.Context, path string, timeout time.Duration) (*disk.UsageStat, error) {
	m.mu.Lock()
	if _, ok := m.pending[path]; ok {
		m.mu.Unlock()
		return nil, fmt.Errorf("an earlier statfs call has not returned after %s (hung network filesystem?)", timeout)
	}
	if m.pending == nil {
		m.pending = map[string]struct{}{}
	}
	m.pending[path] = struct{}{}
	m.mu.Unlock()

	type result struct {
		u   *disk.UsageStat
		err error
	}
	ch := make(chan result, 1)
	go func() {
		u, err := disk.UsageWithContext(ctx, path)
		m.mu.Lock()
		delete(m.pending, path)
		m.mu.Unlock()
		ch <- result{u, err}
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case res := <-ch:
		return res.u, res.err
	case <-t.C:
		return nil, fmt.Errorf("statfs did not return within %s (hung network filesystem?)", timeout)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
