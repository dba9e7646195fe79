package bench

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// FSInfo names the filesystem and device dir lives on, e.g. "ext4 on 254:0".
func FSInfo(dir string) (desc string, dev uint64, err error) {
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return "", 0, fmt.Errorf("stat %s: %w", dir, err)
	}
	var sfs unix.Statfs_t
	if err := unix.Statfs(dir, &sfs); err != nil {
		return "", 0, fmt.Errorf("statfs %s: %w", dir, err)
	}
	name := fmt.Sprintf("fs type %#x", sfs.Type)
	switch sfs.Type {
	case unix.EXT4_SUPER_MAGIC:
		name = "ext4"
	case unix.XFS_SUPER_MAGIC:
		name = "xfs"
	case unix.BTRFS_SUPER_MAGIC:
		name = "btrfs"
	case unix.TMPFS_MAGIC:
		name = "tmpfs"
	case unix.OVERLAYFS_SUPER_MAGIC:
		name = "overlayfs"
	}
	return fmt.Sprintf("%s on %d:%d", name, unix.Major(st.Dev), unix.Minor(st.Dev)), st.Dev, nil
}
