package sqlstore

import "syscall"

// diskState reports the bytes free to an unprivileged writer on the file
// system holding dir, and whether it is mounted read-only.
func diskState(dir string) (free uint64, readOnly bool, err error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, false, err
	}
	const stReadOnly = 0x1 // ST_RDONLY
	return st.Bavail * uint64(st.Bsize), st.Flags&stReadOnly != 0, nil
}
