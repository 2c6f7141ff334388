// Package cli holds what the example commands share around their protocol
// code: string flags that fall back to the environment, PEM given as text
// or as a file, and the exit codes of a run (0 for -h, 2 for a bad flag,
// 1 for a failed run).
package cli

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
)

// StringVar defines a string flag on fs whose default is the value of the
// environment variable env, or def if env is unset or empty. The usage
// text names env, so -h lists it. A page passes its settings this way.
func StringVar(fs *flag.FlagSet, p *string, name, env, def, usage string) {
	v := os.Getenv(env)
	if v == "" {
		v = def
	}
	fs.StringVar(p, name, v, usage+" ($"+env+")")
}

// PEM returns s itself if it holds PEM text, else the contents of the file
// that s names. An empty s stays empty. flagName goes into the error.
func PEM(flagName, s string) (string, error) {
	if s == "" || strings.Contains(s, "-----BEGIN") {
		return s, nil
	}
	b, err := os.ReadFile(s)
	if err != nil {
		return "", fmt.Errorf("-%s: %w", flagName, err)
	}
	return string(b), nil
}

// Usage ends the command after its flags failed to parse: with status 0
// for -h, whose usage the FlagSet has printed, else with status 2 after
// printing err.
func Usage(cmd string, err error) {
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	fmt.Fprintf(os.Stderr, "%s: %v\n", cmd, err)
	os.Exit(2)
}

// Fail ends the command with status 1 after printing err.
func Fail(cmd string, err error) {
	fmt.Fprintf(os.Stderr, "%s: %v\n", cmd, err)
	os.Exit(1)
}
