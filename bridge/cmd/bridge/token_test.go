//go:build !js && !wasip1

package main

// "bridge token keygen, mint, inspect", run in-process as main runs them,
// and their tokens used against a bridge that serve runs.

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wasmnet/wasmnet/bridge"
	"github.com/wasmnet/wasmnet/wasm/wasmnet"
)

// tokenCmd runs "bridge token args..." and returns what it printed.
func tokenCmd(t *testing.T, args ...string) string {
	t.Helper()
	out, err := tokenCmdErr(args...)
	if err != nil {
		t.Fatalf("bridge token %q: %v", args, err)
	}
	return out
}

func tokenCmdErr(args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), func() {}, append([]string{"token"}, args...), &stdout, &stderr)
	return stdout.String(), err
}

// keyPair makes a key pair with the command and returns the files.
func keyPair(t *testing.T) (key, pub string) {
	t.Helper()
	dir := t.TempDir()
	key, pub = filepath.Join(dir, "token.key"), filepath.Join(dir, "token.pub")
	tokenCmd(t, "keygen", "-key", key, "-pub", pub)
	return key, pub
}

func publicKeys(t *testing.T, file string) []ed25519.PublicKey {
	t.Helper()
	keys, err := readPublicKeys(file)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func TestTokenKeygen(t *testing.T) {
	dir := t.TempDir()
	key, pub := filepath.Join(dir, "k"), filepath.Join(dir, "p")
	out := tokenCmd(t, "keygen", "-key", key, "-pub", pub)
	pubPEM, err := os.ReadFile(pub)
	if err != nil {
		t.Fatal(err)
	}
	if out != string(pubPEM) || !strings.HasPrefix(out, "-----BEGIN PUBLIC KEY-----") {
		t.Errorf("keygen printed %q, want the public key it wrote, %q", out, pubPEM)
	}
	if fi, err := os.Stat(key); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("private key file: %v, %v; want mode 0600", fi.Mode(), err)
	}
	priv, err := readPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if !priv.Public().(ed25519.PublicKey).Equal(publicKeys(t, pub)[0]) {
		t.Errorf("the public key is not the private key's")
	}
	before, _ := os.ReadFile(key)
	if _, err := tokenCmdErr("keygen", "-key", key); err == nil {
		t.Errorf("keygen overwrote an existing key")
	}
	if after, _ := os.ReadFile(key); !bytes.Equal(before, after) {
		t.Errorf("keygen changed an existing key")
	}
	if _, err := tokenCmdErr("keygen"); err == nil {
		t.Errorf("keygen without -key: no error")
	}
}

func TestTokenMint(t *testing.T) {
	key, pub := keyPair(t)
	tok := strings.TrimSpace(tokenCmd(t, "mint", "-key", key, "-ttl", "90m", "-sub", "alice",
		"-origin", "app.example.com", "-origin", "*.example.org",
		"-allow", "*:443", "-allow", "mail.example.com:25,mail.example.com:587", "-deny", "10.0.0.0/8",
		"-udp", "-listen-ports", "20000-20009", "-endpoints", "chat.wasmnet.internal:80",
		"-sessions", "2", "-streams", "3", "-rate", "1MiB"))
	c, err := bridge.ParseToken(tok, publicKeys(t, pub), time.Now())
	if err != nil {
		t.Fatalf("the minted token does not check: %v", err)
	}
	want := bridge.Claims{
		Subject: "alice", ID: c.ID, IssuedAt: c.IssuedAt, Expires: c.IssuedAt + 90*60,
		Origins: []string{"app.example.com", "*.example.org"},
		Allow:   []string{"*:443", "mail.example.com:25", "mail.example.com:587"},
		Deny:    []string{"10.0.0.0/8"},
		UDP:     true,
		Listen:  &bridge.ListenScope{Ports: "20000-20009", Endpoints: []string{"chat.wasmnet.internal:80"}},
		Limits:  bridge.TokenLimits{Sessions: 2, Streams: 3, Rate: 1 << 20},
	}
	gotJSON, _ := json.Marshal(c)
	wantJSON, _ := json.Marshal(want)
	if string(gotJSON) != string(wantJSON) {
		t.Errorf("claims\n%s\nwant\n%s", gotJSON, wantJSON)
	}
	if len(c.ID) != 16 || time.Since(time.Unix(c.IssuedAt, 0)).Abs() > time.Minute {
		t.Errorf("id %q, issued at %d: want 8 random bytes in hex, and now", c.ID, c.IssuedAt)
	}

	// Two tokens are never the same: they name themselves apart.
	if other := strings.TrimSpace(tokenCmd(t, "mint", "-key", key)); other == tok {
		t.Errorf("two mints gave the same token")
	}

	for _, args := range [][]string{
		{"mint"},
		{"mint", "-key", key, "-allow", "a b"},
		{"mint", "-key", key, "-listen-ports", "9-1"},
		{"mint", "-key", key, "-endpoints", "example.com:80"},
		{"mint", "-key", key, "-origin", "[x"},
		{"mint", "-key", key, "-sessions", "-1"},
		{"mint", "-key", key, "extra"},
		{"mint", "-key", pub},
		{"nonsense"},
		{},
	} {
		if out, err := tokenCmdErr(args...); err == nil {
			t.Errorf("bridge token %q printed %q, want an error", args, out)
		}
	}
}

func TestTokenInspect(t *testing.T) {
	key, pub := keyPair(t)
	_, otherPub := keyPair(t)
	tok := strings.TrimSpace(tokenCmd(t, "mint", "-key", key, "-sub", "bob", "-allow", "*:443"))

	out := tokenCmd(t, "inspect", tok)
	for _, want := range []string{"fingerprint " + bridge.TokenFingerprint(tok), `"sub": "bob"`, `"*:443"`, "signature not checked"} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect without -pub: %q lacks %q", out, want)
		}
	}
	if strings.Contains(out, tok) {
		t.Errorf("inspect printed the token itself")
	}
	for _, arg := range []string{tok, bridge.TokenProtocolPrefix + tok} {
		if out := tokenCmd(t, "inspect", "-pub", pub, arg); !strings.HasSuffix(out, "valid\n") {
			t.Errorf("inspect -pub %q: %q, want it to end in valid", arg, out)
		}
	}
	if _, err := tokenCmdErr("inspect", "-pub", otherPub, tok); !errors.Is(err, bridge.ErrTokenInvalid) {
		t.Errorf("inspect with another key: %v, want ErrTokenInvalid", err)
	}
	expired := strings.TrimSpace(tokenCmd(t, "mint", "-key", key, "-ttl", "-1m"))
	if _, err := tokenCmdErr("inspect", "-pub", pub, expired); !errors.Is(err, bridge.ErrTokenExpired) {
		t.Errorf("inspect of an expired token: %v, want ErrTokenExpired", err)
	}
	for _, bad := range [][]string{{"inspect"}, {"inspect", "not-a-token"}, {"inspect", "w1.!!.x"}, {"inspect", tok, tok}} {
		if _, err := tokenCmdErr(bad...); err == nil {
			t.Errorf("bridge token %q: no error", bad)
		}
	}
}

// The command's keys and tokens work with the command's bridge, through
// the wasmnet client, which sends the token as a subprotocol.
func TestServeTokens(t *testing.T) {
	echo := startEcho(t)
	other := startEcho(t)
	key, pub := keyPair(t)
	tok := strings.TrimSpace(tokenCmd(t, "mint", "-key", key, "-allow", "127.0.0.1/32:"+port(echo)))
	s := startServe(t, "-token-keys", pub, "-token-special", "-allow", "127.0.0.1/32", "-log", "debug")
	roundTrip(t, s.dialer(t, tok), echo)

	// The bridge's rule allows the other server; the token does not.
	_, err := s.dialer(t, tok).Dial("tcp", other)
	if r := closeReason(t, err); r != 0xD6 {
		t.Errorf("dial outside the token's scope: reason %v, want 0xd6", r)
	}
	// Refused sessions: the client learns of it as a lost session (whether
	// it reads the close status first depends on timing, so the status is
	// checked in the bridge's log).
	var be *wasmnet.BridgeError
	if _, err = s.dialer(t, "").Dial("tcp", echo); !errors.As(err, &be) {
		t.Errorf("dial without a token: %v, want the session refused", err)
	}
	wrongKey, _ := keyPair(t)
	forged := strings.TrimSpace(tokenCmd(t, "mint", "-key", wrongKey, "-allow", "*"))
	if _, err = s.dialer(t, forged).Dial("tcp", echo); !errors.As(err, &be) {
		t.Errorf("dial with a token of another key: %v, want the session refused", err)
	}
	for msg, status := range map[string]string{
		"session refused: bridge token required":                                  "status=4400",
		"session refused: bridge token invalid: signature does not match any key": "status=4401",
	} {
		eventually(t, func() bool {
			for _, line := range strings.Split(s.log.String(), "\n") {
				if strings.Contains(line, `msg="`+msg+`"`) && strings.HasSuffix(line, status) {
					return true
				}
			}
			return false
		}, "the bridge logs "+msg+" with "+status)
	}
	s.stop(t)
	for _, tok := range []string{tok, forged} {
		if strings.Contains(s.log.String(), tok[strings.LastIndex(tok, ".")+1:]) {
			t.Errorf("the bridge's log shows a token")
		}
	}
}

func port(addr string) string { return addr[strings.LastIndex(addr, ":")+1:] }
