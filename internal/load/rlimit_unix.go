//go:build unix

package load

import "syscall"

// RaiseOpenFiles raises this process's soft limit on open files to its
// hard limit, and returns the new soft limit. Processes it starts inherit
// the limit.
func RaiseOpenFiles() (uint64, error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, err
	}
	if l.Cur < l.Max {
		l.Cur = l.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
			return 0, err
		}
	}
	return l.Cur, nil
}
