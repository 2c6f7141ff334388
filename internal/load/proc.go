package load

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Proc is what a process holds and has used, from /proc (Linux).
type Proc struct {
	RSS  int64         // resident set now, bytes (VmRSS)
	Peak int64         // peak resident set, bytes (VmHWM)
	CPU  time.Duration // user and system time so far
}

// clockTick is the unit of the times in /proc/<pid>/stat: USER_HZ, which
// Linux fixes at 100 for user space whatever the kernel's own tick.
const clockTick = 10 * time.Millisecond

// ReadProc reads the figures of process pid.
func ReadProc(pid int) (Proc, error) {
	var p Proc
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return p, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			p.RSS = kb << 10
		case "VmHWM:":
			p.Peak = kb << 10
		}
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return p, err
	}
	// The command name, in parentheses, may hold spaces: count the fields
	// after its closing parenthesis. utime and stime are fields 14 and 15
	// of the line, so 12 and 13 after the name.
	i := strings.LastIndexByte(string(stat), ')')
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return p, fmt.Errorf("/proc/%d/stat: %d fields after the name", pid, len(f))
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return p, fmt.Errorf("/proc/%d/stat: bad times %q %q", pid, f[11], f[12])
	}
	p.CPU = time.Duration(utime+stime) * clockTick
	return p, nil
}

// MiB formats bytes as mebibytes.
func MiB(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
