// Package disktest gives tests of storage on a full disk a real filesystem to fill: a small
// tmpfs mounted for the test. Mounting needs root and mount permission (CI and the dev
// container have both); without them a test fails, it never skips.
package disktest

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// Mount mounts a tmpfs of sizeMiB on a new directory and unmounts it at cleanup.
func Mount(t testing.TB, sizeMiB int) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+strconv.Itoa(sizeMiB)+"m"); err != nil {
		t.Fatalf("cannot mount a %d MiB tmpfs on %s (this test needs root and mount permission): %v", sizeMiB, dir, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("cannot unmount %s: %v", dir, err)
		}
	})
	return dir
}

// Fill allocates a file in dir that leaves about leave bytes free on its filesystem, and
// returns its path; removing the file gives the space back. With leave 0 it then writes until
// ENOSPC, so that not a byte is left.
func Fill(t testing.TB, dir string, leave int64) string {
	t.Helper()
	var sfs syscall.Statfs_t
	if err := syscall.Statfs(dir, &sfs); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "filler-"+strconv.FormatInt(time.Now().UnixNano(), 10))
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if size := int64(sfs.Bavail)*sfs.Bsize - leave; size > 0 {
		if err := syscall.Fallocate(int(f.Fd()), 0, 0, size); err != nil {
			t.Fatalf("cannot fill %s with %d bytes: %v", dir, size, err)
		}
	}
	if leave > 0 {
		return path
	}
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling %s: %v, want ENOSPC at the end", dir, err)
			}
			return path
		}
	}
}
