package storage

import "path/filepath"

// WriteFileAtomic durably replaces the file at path with data on the OS
// filesystem: temporary file, fsync, rename, directory fsync. For small
// state files outside partition logs (producer id blocks and the like).
func WriteFileAtomic(path string, data []byte) error {
	return writeFileAtomic(OS, filepath.Dir(path), filepath.Base(path), data)
}
