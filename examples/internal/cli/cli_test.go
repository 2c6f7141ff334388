package cli

import (
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStringVar(t *testing.T) {
	t.Setenv("CLI_TEST_SET", "from env")
	t.Setenv("CLI_TEST_EMPTY", "")
	flags := flag.NewFlagSet("t", flag.ContinueOnError)
	var set, empty, given string
	StringVar(flags, &set, "set", "CLI_TEST_SET", "default", "a flag")
	StringVar(flags, &empty, "empty", "CLI_TEST_EMPTY", "default", "a flag")
	StringVar(flags, &given, "given", "CLI_TEST_SET", "default", "a flag")
	if err := flags.Parse([]string{"-given", "from args"}); err != nil {
		t.Fatal(err)
	}
	if set != "from env" || empty != "default" || given != "from args" {
		t.Errorf("got %q, %q, %q; want the environment's, the default, the argument", set, empty, given)
	}
	if u := flags.Lookup("set").Usage; u != "a flag ($CLI_TEST_SET)" {
		t.Errorf("usage %q does not name the variable", u)
	}
}

func TestPEM(t *testing.T) {
	const text = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
	file := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{"", text, file} {
		got, err := PEM("ca", in)
		want := text
		if in == "" {
			want = ""
		}
		if err != nil || got != want {
			t.Errorf("PEM(%.20q) = %.20q, %v; want %.20q", in, got, err, want)
		}
	}
	_, err := PEM("ca", filepath.Join(t.TempDir(), "missing.pem"))
	if err == nil || !strings.HasPrefix(err.Error(), "-ca: ") || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("PEM of a missing file: %v; want a -ca: error wrapping ErrNotExist", err)
	}
}
