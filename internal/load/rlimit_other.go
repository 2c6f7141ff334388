//go:build !unix

package load

import "errors"

// RaiseOpenFiles has nothing to raise off unix.
func RaiseOpenFiles() (uint64, error) {
	return 0, errors.New("load: no RLIMIT_NOFILE on this system")
}
