package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// flags defines the server's flags, each with an environment variable as
// its default.
type flags struct {
	*flag.FlagSet
}

func (f flags) env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func (f flags) string(name, env, def, usage string) *string {
	return f.String(name, f.env(env, def), usage+" ($"+env+")")
}

func (f flags) bool(name, env, usage string) *bool {
	v, _ := strconv.ParseBool(f.env(env, "false"))
	return f.Bool(name, v, usage+" ($"+env+")")
}

func (f flags) int(name, env string, def int, usage string) *int {
	v, err := strconv.Atoi(f.env(env, strconv.Itoa(def)))
	if err != nil {
		v = def
	}
	return f.Int(name, v, usage+" ($"+env+")")
}

func (f flags) duration(name, env string, def time.Duration, usage string) *time.Duration {
	v, err := time.ParseDuration(f.env(env, def.String()))
	if err != nil {
		v = def
	}
	return f.Duration(name, v, usage+" ($"+env+")")
}

// size is a byte count flag that takes "256KiB", "16MiB", "1GiB", "64k"
// or a plain number.
type size int64

func (s *size) String() string { return strconv.FormatInt(int64(*s), 10) }

func (s *size) Set(v string) error {
	n, err := parseSize(v)
	if err != nil {
		return err
	}
	*s = size(n)
	return nil
}

func (f flags) size(name, env, def, usage string) *size {
	s := new(size)
	if err := s.Set(f.env(env, def)); err != nil {
		s.Set(def)
	}
	f.Var(s, name, usage+" ($"+env+")")
	return s
}

func parseSize(v string) (int64, error) {
	v = strings.TrimSpace(v)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"k", 1 << 10}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1}} {
		if n, ok := strings.CutSuffix(v, u.suffix); ok {
			v, mult = n, u.mult
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("bad size %q: want a number of bytes, such as 65536, 256KiB or 16MiB", v)
	}
	return n * mult, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
