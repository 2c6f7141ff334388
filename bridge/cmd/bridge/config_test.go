//go:build !js && !wasip1

package main

// From options to the bridge's Config: the policy from -policy, -allow and
// -deny, listening, tokens and the limits' special values.

import (
	"io"
	"log/slog"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmnet/wasmnet/bridge"
)

func config(t *testing.T, args ...string) bridge.Config {
	t.Helper()
	clearEnv(t)
	cfg, err := parse(t, args...).config(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("config %q: %v", args, err)
	}
	return cfg
}

func allowed(p *bridge.Policy, host, addr string, port uint16) bool {
	return p.Check(host, netip.MustParseAddr(addr), port).Allowed
}

// With no rules, the command refuses every destination: public, special,
// by name or by address, on any port. Listening and tokens are off.
func TestConfigDefaults(t *testing.T) {
	cfg := config(t)
	for _, dest := range []struct {
		host, addr string
		port       uint16
	}{
		{"9.9.9.9", "9.9.9.9", 443},
		{"example.com", "93.184.215.14", 80},
		{"2001:4860:4860::8888", "2001:4860:4860::8888", 53},
		{"127.0.0.1", "127.0.0.1", 8080},
		{"metadata.google.internal", "169.254.169.254", 80},
		{"10.0.0.1", "10.0.0.1", 22},
	} {
		if allowed(&cfg.Policy, dest.host, dest.addr, dest.port) {
			t.Errorf("a bridge without rules allows %s (%s) port %d", dest.host, dest.addr, dest.port)
		}
	}
	if cfg.Listen != nil {
		t.Errorf("listening is on by default: %+v", cfg.Listen)
	}
	if cfg.Tokens != nil {
		t.Errorf("tokens are on by default")
	}
	if cfg.NoUDP {
		t.Errorf("UDP is off by default")
	}
	if len(cfg.OriginPatterns) != 0 || len(cfg.TrustedProxies) != 0 {
		t.Errorf("origins %q and trusted proxies %v by default, want none", cfg.OriginPatterns, cfg.TrustedProxies)
	}
	// The command, unlike the library, bounds each session's rate.
	if cfg.Rate != 16<<20 {
		t.Errorf("rate %d by default, want 16 MiB/s", cfg.Rate)
	}
}

// A policy file and the flags add up; deny rules win wherever they come
// from.
func TestConfigPolicy(t *testing.T) {
	file := filepath.Join(t.TempDir(), "policy")
	writeFile(t, file, `# public web servers, one mail server
allow *:443
allow mail.example.com:25, mail.example.com:587   # two on a line

deny 203.0.113.0/24
`)
	cfg := config(t, "-policy", file, "-allow", "10.1.2.3:5432", "-deny", "*:443")
	if len(cfg.Policy.Allow) != 4 || len(cfg.Policy.Deny) != 2 {
		t.Fatalf("allow %v, deny %v; want 4 and 2 rules", cfg.Policy.Allow, cfg.Policy.Deny)
	}
	for _, tc := range []struct {
		host, addr string
		port       uint16
		want       bool
	}{
		{"mail.example.com", "192.0.2.25", 25, true},  // a host rule opens even a special range
		{"mail.example.com", "192.0.2.25", 587, true}, // the second rule of the line
		{"mail.example.com", "192.0.2.25", 465, false},
		{"10.1.2.3", "10.1.2.3", 5432, true}, // -allow
		{"9.9.9.9", "9.9.9.9", 443, false},   // -deny wins over the file's allow
		{"203.0.113.7", "203.0.113.7", 25, false},
		{"9.9.9.9", "9.9.9.9", 80, false},
	} {
		if got := allowed(&cfg.Policy, tc.host, tc.addr, tc.port); got != tc.want {
			t.Errorf("%s (%s) port %d: allowed %v, want %v", tc.host, tc.addr, tc.port, got, tc.want)
		}
	}

	writeFile(t, file, "allow *:443\npermit *:80\n")
	clearEnv(t)
	_, err := parse(t, "-policy", file).config(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), file) {
		t.Fatalf("a bad policy file: %v, want an error naming the file and the line", err)
	}
}

func TestConfigListen(t *testing.T) {
	if cfg := config(t, "-endpoints"); cfg.Listen == nil || !cfg.Listen.Endpoints || cfg.Listen.PortLow != 0 {
		t.Errorf("-endpoints: %+v, want endpoints and no public ports", cfg.Listen)
	}
	cfg := config(t, "-listen-ports", "20000-20009", "-listen-addr", "[::1]")
	if l := cfg.Listen; l == nil || l.Endpoints || l.PortLow != 20000 || l.PortHigh != 20009 || l.Addr != netip.MustParseAddr("::1") {
		t.Errorf("-listen-ports 20000-20009 -listen-addr [::1]: %+v", cfg.Listen)
	}
	if cfg := config(t, "-listen-ports", "8080"); cfg.Listen.PortLow != 8080 || cfg.Listen.PortHigh != 8080 {
		t.Errorf("-listen-ports 8080: %+v", cfg.Listen)
	}
}

func TestConfigLimits(t *testing.T) {
	cfg := config(t, "-stream-buffer", "0", "-session-buffer", "0", "-max-buffered", "0", "-rate", "0",
		"-max-sessions", "-1", "-max-streams", "3", "-idle-timeout", "1m", "-no-udp", "-credit", "8")
	// The command's 0 means no bound, where the library's zero means its
	// default.
	if cfg.StreamBuffer != -1 || cfg.SessionBuffer != -1 || cfg.MaxBuffered != -1 || cfg.Rate != 0 {
		t.Errorf("buffers %d %d %d, rate %d: want -1 (none) for the buffers and 0 (none) for the rate",
			cfg.StreamBuffer, cfg.SessionBuffer, cfg.MaxBuffered, cfg.Rate)
	}
	if cfg.MaxSessions != -1 || cfg.MaxStreams != 3 || cfg.IdleTimeout.String() != "1m0s" || !cfg.NoUDP || cfg.Credit != 8 {
		t.Errorf("the flags did not reach the config: %+v", cfg)
	}
}

func TestConfigTrustedProxies(t *testing.T) {
	cfg := config(t, "-trusted-proxies", "10.0.0.0/8, 192.0.2.1,::1")
	var got []string
	for _, p := range cfg.TrustedProxies {
		got = append(got, p.String())
	}
	if strings.Join(got, " ") != "10.0.0.0/8 192.0.2.1/32 ::1/128" {
		t.Errorf("trusted proxies %v, want 10.0.0.0/8 192.0.2.1/32 ::1/128: an address is a proxy of its own", got)
	}
}

func TestConfigTokens(t *testing.T) {
	dir := t.TempDir()
	pub1, pub2 := filepath.Join(dir, "1.pub"), filepath.Join(dir, "2.pub")
	tokenCmd(t, "keygen", "-key", filepath.Join(dir, "1.key"), "-pub", pub1)
	tokenCmd(t, "keygen", "-key", filepath.Join(dir, "2.key"), "-pub", pub2)
	cfg := config(t, "-token-keys", pub1+","+pub2, "-token-optional")
	if cfg.Tokens == nil || len(cfg.Tokens.Keys) != 2 || !cfg.Tokens.Optional || cfg.Tokens.OpenSpecial {
		t.Fatalf("-token-keys with two files and -token-optional: %+v", cfg.Tokens)
	}
	// A private key file gives its public half, so the minting key can be
	// pointed at directly.
	cfg = config(t, "-token-keys", filepath.Join(dir, "1.key"), "-token-special")
	if cfg.Tokens == nil || len(cfg.Tokens.Keys) != 1 || !cfg.Tokens.OpenSpecial || cfg.Tokens.Optional {
		t.Fatalf("-token-keys with a private key and -token-special: %+v", cfg.Tokens)
	}
}
