package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/wasmnet/wasmnet/wasm/wasmnet"
)

type idleFigures struct {
	streams, sessions int
	before, after     int64 // bridge RSS, bytes
	peak              int64 // bridge peak RSS over the run
}

// perSession keeps each session under the bridge's stream limit.
const perSession = 1000

// idleStreams opens n streams to the echo server through the bridge, each
// after one round trip, leaves them idle and reports the bridge's RSS.
func idleStreams(e *env, n int) (idleFigures, error) {
	f := idleFigures{streams: n, sessions: (n + perSession - 1) / perSession}
	var err error
	if f.before, _, err = rss(e.bridgePID); err != nil {
		return f, err
	}
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	var dialers []*wasmnet.Dialer
	defer func() {
		for _, d := range dialers {
			d.Close()
		}
	}()
	one := []byte{1}
	for i := range n {
		if i%perSession == 0 {
			dialers = append(dialers, &wasmnet.Dialer{Bridge: e.bridgeURL})
		}
		c, err := dialers[len(dialers)-1].Dial("tcp", e.echo)
		if err != nil {
			return f, fmt.Errorf("stream %d: %w", i, err)
		}
		conns = append(conns, c)
		if _, err := c.Write(one); err != nil {
			return f, err
		}
		if _, err := io.ReadFull(c, one); err != nil {
			return f, err
		}
	}
	time.Sleep(2 * time.Second) // let the bridge settle
	f.after, f.peak, err = rss(e.bridgePID)
	return f, err
}

// rss reads a process's resident set and its peak, in bytes.
func rss(pid int) (cur, peak int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(fields[1], 10, 64)
		switch fields[0] {
		case "VmRSS:":
			cur = kb << 10
		case "VmHWM:":
			peak = kb << 10
		}
	}
	return cur, peak, nil
}
