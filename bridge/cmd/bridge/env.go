//go:build !js && !wasip1

package main

import (
	"errors"
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
	// bad holds, by flag name, the environment variables that do not
	// parse. A flag given on the command line overrides its variable;
	// otherwise the bad value is an error, not a silent default.
	bad map[string]error
}

func newFlags(fs *flag.FlagSet) flags { return flags{fs, map[string]error{}} }

// check reports the environment variables that did not parse, for the
// flags not given on the command line. Call it after Parse.
func (f flags) check() error {
	f.Visit(func(fl *flag.Flag) { delete(f.bad, fl.Name) })
	var errs []error
	f.VisitAll(func(fl *flag.Flag) {
		if err := f.bad[fl.Name]; err != nil {
			errs = append(errs, err)
		}
	})
	return errors.Join(errs...)
}

func (f flags) badEnv(name, env, value string, err error) {
	f.bad[name] = fmt.Errorf("$%s=%q: %v", env, value, err)
}

func (f flags) env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

// typed is the value of a variable for a flag that is not a string: an
// empty value means the default, as an unset one does.
func (f flags) typed(env, def string) string {
	if v := f.env(env, def); v != "" {
		return v
	}
	return def
}

// The helpers below define a flag that stores into p, as flag.BoolVar
// and the rest do: p holds the value given on the command line once the
// flags are parsed, and the variable's value (or def) until then.

func (f flags) boolVar(p *bool, name, env, usage string) {
	s := f.typed(env, "false")
	v, err := strconv.ParseBool(s)
	if err != nil {
		f.badEnv(name, env, s, err)
	}
	f.BoolVar(p, name, v, usage+" ($"+env+")")
}

func (f flags) intVar(p *int, name, env string, def int, usage string) {
	s := f.typed(env, strconv.Itoa(def))
	v, err := strconv.Atoi(s)
	if err != nil {
		f.badEnv(name, env, s, err)
		v = def
	}
	f.IntVar(p, name, v, usage+" ($"+env+")")
}

func (f flags) durationVar(p *time.Duration, name, env string, def time.Duration, usage string) {
	s := f.typed(env, def.String())
	v, err := time.ParseDuration(s)
	if err != nil {
		f.badEnv(name, env, s, err)
		v = def
	}
	f.DurationVar(p, name, v, usage+" ($"+env+")")
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

func (f flags) sizeVar(p *size, name, env, def, usage string) {
	v := f.typed(env, def)
	if err := p.Set(v); err != nil {
		f.badEnv(name, env, v, err)
		p.Set(def)
	}
	f.Var(p, name, usage+" ($"+env+")")
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
