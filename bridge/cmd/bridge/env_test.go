//go:build !js && !wasip1

package main

// Every flag of serve has an environment variable; a flag on the command
// line wins over it, and a variable that does not parse is an error.

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"strings"
	"testing"
)

// optionRow is one flag: a value for it and what the options hold then,
// and a second value to show that the command line wins.
type optionRow struct {
	flag, env    string
	v1, want1    string
	v2, want2    string
	get          func(*options) any
	defaultValue string
}

var optionRows = []optionRow{
	{"addr", "WASMNET_ADDR", "127.0.0.1:1", "127.0.0.1:1", ":2", ":2", func(o *options) any { return o.addr }, "localhost:8080"},
	{"path", "WASMNET_PATH", "/a/", "/a/", "/b/", "/b/", func(o *options) any { return o.path }, "/wisp/"},
	{"static", "WASMNET_STATIC", "a", "a", "b", "b", func(o *options) any { return o.static }, ""},
	{"allow", "WASMNET_ALLOW", "*:443", "*:443", "*:80", "*:80", func(o *options) any { return o.allow }, ""},
	{"deny", "WASMNET_DENY", "10.0.0.0/8", "10.0.0.0/8", "::1", "::1", func(o *options) any { return o.deny }, ""},
	{"policy", "WASMNET_POLICY", "p1", "p1", "p2", "p2", func(o *options) any { return o.policyFile }, ""},
	{"origins", "WASMNET_ORIGINS", "a.example", "a.example", "b.example", "b.example", func(o *options) any { return o.origins }, ""},
	{"listen-ports", "WASMNET_LISTEN_PORTS", "1-2", "1-2", "3-4", "3-4", func(o *options) any { return o.listenPorts }, ""},
	{"listen-addr", "WASMNET_LISTEN_ADDR", "127.0.0.1", "127.0.0.1", "::1", "::1", func(o *options) any { return o.listenAddr }, ""},
	{"endpoints", "WASMNET_ENDPOINTS", "true", "true", "false", "false", func(o *options) any { return o.endpoints }, "false"},
	{"no-udp", "WASMNET_NO_UDP", "true", "true", "false", "false", func(o *options) any { return o.noUDP }, "false"},
	{"token-keys", "WASMNET_TOKEN_KEYS", "k1", "k1", "k2", "k2", func(o *options) any { return o.tokenKeys }, ""},
	{"token-optional", "WASMNET_TOKEN_OPTIONAL", "1", "true", "0", "false", func(o *options) any { return o.tokenOptional }, "false"},
	{"token-special", "WASMNET_TOKEN_SPECIAL", "true", "true", "false", "false", func(o *options) any { return o.tokenSpecial }, "false"},
	{"trusted-proxies", "WASMNET_TRUSTED_PROXIES", "10.0.0.1", "10.0.0.1", "10.0.0.2", "10.0.0.2", func(o *options) any { return o.trustedProxies }, ""},
	{"max-sessions", "WASMNET_MAX_SESSIONS", "7", "7", "-1", "-1", func(o *options) any { return o.maxSessions }, "10000"},
	{"max-sessions-per-ip", "WASMNET_MAX_SESSIONS_PER_IP", "7", "7", "8", "8", func(o *options) any { return o.maxPerIP }, "64"},
	{"max-sessions-per-token", "WASMNET_MAX_SESSIONS_PER_TOKEN", "7", "7", "8", "8", func(o *options) any { return o.maxPerToken }, "16"},
	{"max-streams", "WASMNET_MAX_STREAMS", "7", "7", "8", "8", func(o *options) any { return o.maxStreams }, "1024"},
	{"credit", "WASMNET_CREDIT", "7", "7", "8", "8", func(o *options) any { return o.credit }, "32"},
	{"stream-buffer", "WASMNET_STREAM_BUFFER", "64k", "65536", "1MiB", "1048576", func(o *options) any { return o.streamBuffer }, "262144"},
	{"session-buffer", "WASMNET_SESSION_BUFFER", "1M", "1048576", "2MiB", "2097152", func(o *options) any { return o.sessionBuffer }, "67108864"},
	{"max-buffered", "WASMNET_MAX_BUFFERED", "1G", "1073741824", "100", "100", func(o *options) any { return o.maxBuffered }, "1073741824"},
	{"rate", "WASMNET_RATE", "1MiB", "1048576", "0", "0", func(o *options) any { return o.rate }, "16777216"},
	{"dial-timeout", "WASMNET_DIAL_TIMEOUT", "7s", "7s", "1m0s", "1m0s", func(o *options) any { return o.dialTimeout }, "10s"},
	{"handshake-timeout", "WASMNET_HANDSHAKE_TIMEOUT", "7s", "7s", "8s", "8s", func(o *options) any { return o.handshakeTimeout }, "10s"},
	{"idle-timeout", "WASMNET_IDLE_TIMEOUT", "7s", "7s", "8s", "8s", func(o *options) any { return o.idleTimeout }, "2m0s"},
	{"stream-idle-timeout", "WASMNET_STREAM_IDLE_TIMEOUT", "7s", "7s", "8s", "8s", func(o *options) any { return o.streamIdleTimeout }, "30m0s"},
	{"drain-timeout", "WASMNET_DRAIN_TIMEOUT", "7s", "7s", "8s", "8s", func(o *options) any { return o.drainTimeout }, "30s"},
	{"tls-cert", "WASMNET_TLS_CERT", "c1", "c1", "c2", "c2", func(o *options) any { return o.tlsCert }, ""},
	{"tls-key", "WASMNET_TLS_KEY", "k1", "k1", "k2", "k2", func(o *options) any { return o.tlsKey }, ""},
	{"acme-domains", "WASMNET_ACME_DOMAINS", "a.example", "a.example", "b.example", "b.example", func(o *options) any { return o.acmeDomains }, ""},
	{"acme-cache", "WASMNET_ACME_CACHE", "d1", "d1", "d2", "d2", func(o *options) any { return o.acmeCache }, "acme-cache"},
	{"acme-email", "WASMNET_ACME_EMAIL", "a@example.com", "a@example.com", "b@example.com", "b@example.com", func(o *options) any { return o.acmeEmail }, ""},
	{"acme-http-addr", "WASMNET_ACME_HTTP_ADDR", ":8080", ":8080", "", "", func(o *options) any { return o.acmeHTTPAddr }, ":80"},
	{"acme-directory", "WASMNET_ACME_DIRECTORY", "https://a.example/dir", "https://a.example/dir", "https://b.example/dir", "https://b.example/dir", func(o *options) any { return o.acmeDirectory }, ""},
	{"metrics-addr", "WASMNET_METRICS_ADDR", "127.0.0.1:1", "127.0.0.1:1", "", "", func(o *options) any { return o.metricsAddr }, "localhost:9101"},
	{"log", "WASMNET_LOG", "debug", "debug", "warn", "warn", func(o *options) any { return o.logLevel }, "info"},
	{"log-format", "WASMNET_LOG_FORMAT", "json", "json", "text", "text", func(o *options) any { return o.logFormat }, "text"},
}

func parse(t *testing.T, args ...string) *options {
	t.Helper()
	var stderr bytes.Buffer
	o, err := parseOptions(args, &stderr)
	if err != nil {
		t.Fatalf("parseOptions(%q): %v\n%s", args, err, stderr.String())
	}
	return o
}

// usage returns the flags serve defines, with the help of each.
func usage(t *testing.T) map[string]string {
	t.Helper()
	var stderr bytes.Buffer
	if _, err := parseOptions([]string{"-h"}, &stderr); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	flags := map[string]string{}
	var name string
	for _, line := range strings.Split(stderr.String(), "\n") {
		if rest, ok := strings.CutPrefix(line, "  -"); ok {
			name = strings.Fields(rest)[0]
			flags[name] = rest
		} else if name != "" {
			flags[name] += line
		}
	}
	return flags
}

func TestEveryFlagHasAVariable(t *testing.T) {
	clearEnv(t)
	flags := usage(t)
	rows := map[string]optionRow{}
	for _, r := range optionRows {
		rows[r.flag] = r
	}
	for name, help := range flags {
		r, ok := rows[name]
		if !ok {
			t.Errorf("flag -%s has no row in optionRows", name)
			continue
		}
		if !strings.Contains(help, "($"+r.env+")") {
			t.Errorf("the help of -%s does not name $%s: %q", name, r.env, help)
		}
	}
	for name := range rows {
		if _, ok := flags[name]; !ok {
			t.Errorf("optionRows names -%s, which serve does not define", name)
		}
	}
}

func TestFlagsAndVariables(t *testing.T) {
	for _, r := range optionRows {
		t.Run(r.flag, func(t *testing.T) {
			clearEnv(t)
			if got := fmt.Sprint(r.get(parse(t))); got != r.defaultValue {
				t.Errorf("default %s, want %s", got, r.defaultValue)
			}
			if got := fmt.Sprint(r.get(parse(t, "-"+r.flag+"="+r.v1))); got != r.want1 {
				t.Errorf("-%s=%s: %s, want %s", r.flag, r.v1, got, r.want1)
			}
			t.Setenv(r.env, r.v1)
			if got := fmt.Sprint(r.get(parse(t))); got != r.want1 {
				t.Errorf("$%s=%s: %s, want %s", r.env, r.v1, got, r.want1)
			}
			if got := fmt.Sprint(r.get(parse(t, "-"+r.flag+"="+r.v2))); got != r.want2 {
				t.Errorf("$%s=%s and -%s=%s: %s, want the flag's %s", r.env, r.v1, r.flag, r.v2, got, r.want2)
			}
		})
	}
}

// A variable that does not parse stops the bridge, rather than leaving
// it on a default the operator did not choose.
func TestBadVariables(t *testing.T) {
	for _, tc := range []struct{ env, value, flag, good string }{
		{"WASMNET_MAX_SESSIONS", "lots", "max-sessions", "5"},
		{"WASMNET_NO_UDP", "maybe", "no-udp", "true"},
		{"WASMNET_IDLE_TIMEOUT", "5", "idle-timeout", "5s"},
		{"WASMNET_RATE", "1MB", "rate", "1MiB"},
	} {
		clearEnv(t)
		t.Setenv(tc.env, tc.value)
		_, err := parseOptions(nil, new(bytes.Buffer))
		if err == nil || !strings.Contains(err.Error(), "$"+tc.env) {
			t.Errorf("$%s=%q: %v, want an error naming the variable", tc.env, tc.value, err)
		}
		// The command line wins, over a bad value too.
		parse(t, "-"+tc.flag+"="+tc.good)
		// An empty variable is as good as none.
		t.Setenv(tc.env, "")
		parse(t)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"0": 0, "65536": 65536, "64k": 64 << 10, "64K": 64 << 10, "256KiB": 256 << 10,
		"16M": 16 << 20, "16MiB": 16 << 20, "1G": 1 << 30, "1GiB": 1 << 30, "100B": 100, " 2 MiB ": 2 << 20,
	} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "1MB", "1.5MiB", "lots"} {
		if got, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", in, got)
		}
	}
}
