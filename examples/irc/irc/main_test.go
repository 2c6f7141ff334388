package irc

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"
)

// TestMain fails the tests if any goroutine of the package outlives them:
// every Server has been closed by then, and Close waits for its own.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaked := leaks(); leaked != "" {
			fmt.Fprintf(os.Stderr, "goroutines leaked:\n%s\n", leaked)
			code = 1
		}
	}
	os.Exit(code)
}

// leaks returns the stacks of goroutines still in this package's code,
// after giving those that are ending a few seconds to end.
func leaks() string {
	var found []byte
	for range 100 {
		found = found[:0]
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		for _, g := range bytes.Split(buf, []byte("\n\n")) {
			if bytes.Contains(g, []byte("examples/irc/irc.")) && !bytes.Contains(g, []byte("irc.TestMain")) {
				found = append(append(found, g...), "\n\n"...)
			}
		}
		if len(found) == 0 {
			return ""
		}
		time.Sleep(50 * time.Millisecond)
	}
	return string(found)
}
