package host

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/shirou/gopsutil/v4/disk"
)

func TestKeepDiskDevice(t *testing.T) {
	f := func(name string, want bool) {
		t.Helper()
		if got := keepDiskDevice(name); got != want {
			t.Errorf("keepDiskDevice(%q) = %v, want %v", name, got, want)
		}
	}
	for _, name := range []string{"sda", "vda", "xvda", "sdaa", "nvme0n1", "nvme10n2", "dm-0", "dm-12", "md0", "mmcblk0", "sr0", "nbd0"} {
		f(name, true)
	}
	for _, name := range []string{"loop0", "loop12", "ram0", "zram0", "fd0", "sda1", "vda2", "xvdb1", "sdaa3", "hda1", "nvme0n1p1", "mmcblk0p2"} {
		f(name, false)
	}
}

func TestRealFilesystems(t *testing.T) {
	p := func(dev, mount, fstype string, opts ...string) disk.PartitionStat {
		return disk.PartitionStat{Device: dev, Mountpoint: mount, Fstype: fstype, Opts: opts}
	}
	in := []disk.PartitionStat{
		p("proc", "/proc", "proc"),
		p("sysfs", "/sys", "sysfs"),
		p("cgroup", "/sys/fs/cgroup/cpu", "cgroup"),
		p("devtmpfs", "/dev", "devtmpfs"),
		p("tmpfs", "/dev/shm", "tmpfs"),
		p("tmpfs", "/run", "tmpfs"),
		p("/dev/vda1", "/", "ext4", "rw"),
		p("/dev/vda1", "/etc/hosts", "ext4", "rw", "bind"),
		p("/dev/vda1", "/srv/again", "ext4", "rw"),
		p("/dev/vdb", "/data", "xfs", "rw"),
		p("/dev/loop3", "/snap/core/123", "squashfs", "ro"),
		p("/dev/loop4", "/mnt/image", "ext4", "ro"),
		p("overlay", "/var/lib/docker/overlay2/abc/merged", "overlay"),
		p("nas:/export", "/mnt/nas", "nfs4"),
		p("/dev/sdc1", "/var/lib/kubelet/pods/x/volumes/y", "ext4"),
		p("lxcfs", "/proc/cpuinfo", "fuse.lxcfs"),
	}
	var got []string
	for _, fs := range realFilesystems(in) {
		got = append(got, fs.Mountpoint)
	}
	if want := []string{"/", "/data", "/mnt/nas"}; !slices.Equal(got, want) {
		t.Errorf("realFilesystems kept %q, want %q", got, want)
	}

	// In a container the root is an overlay: keep it.
	got = nil
	for _, fs := range realFilesystems([]disk.PartitionStat{p("overlay", "/", "overlay"), p("/dev/sda1", "/etc/hosts", "ext4", "bind")}) {
		got = append(got, fs.Mountpoint)
	}
	if want := []string{"/"}; !slices.Equal(got, want) {
		t.Errorf("in a container realFilesystems kept %q, want %q", got, want)
	}
}

func TestStuckMountsUsage(t *testing.T) {
	var m stuckMounts
	u, err := m.usage(context.Background(), "/", time.Second)
	if err != nil {
		t.Fatalf("usage(/): %v", err)
	}
	if u.Total == 0 {
		t.Errorf("usage(/).Total = 0")
	}
	// A pending call makes the next ones fail at once.
	m.pending = map[string]struct{}{"/": {}}
	if _, err := m.usage(context.Background(), "/", time.Hour); err == nil {
		t.Errorf("usage with a pending statfs succeeded, want an error")
	}
	if _, err := m.usage(context.Background(), "/nonexistent-redwatch-test", time.Second); err == nil {
		t.Errorf("usage of a missing path succeeded")
	}
}
