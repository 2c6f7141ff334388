//go:build !js && !wasip1

package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/wasmnet/wasmnet/bridge"
)

type ed25519PublicKey = ed25519.PublicKey

const tokenUsage = `usage:
  bridge token keygen -key FILE [-pub FILE]
      make an Ed25519 key pair: the private key (PKCS#8 PEM, mode 0600)
      signs tokens; the public key (PKIX PEM) goes to the bridge's
      -token-keys. openssl genpkey -algorithm ed25519 makes the same kind.
  bridge token mint -key FILE -ttl DURATION [scope flags]
      print a token; see bridge token mint -h for the scope flags
  bridge token inspect [-pub FILE] TOKEN
      print a token's claims; with -pub, check its signature and expiry.
      TOKEN "-" reads it from standard input.`

// tokenCommand runs "bridge token ...".
func tokenCommand(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, tokenUsage)
		return errors.New("token: want keygen, mint or inspect")
	}
	fs := flag.NewFlagSet("bridge token "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	var err error
	switch args[0] {
	case "keygen":
		err = keygen(fs, args[1:], stdout)
	case "mint":
		err = mint(fs, args[1:], stdout)
	case "inspect":
		err = inspect(fs, args[1:], stdout)
	default:
		fmt.Fprintln(stderr, tokenUsage)
		return fmt.Errorf("token: unknown command %q", args[0])
	}
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

func keygen(fs *flag.FlagSet, args []string, stdout io.Writer) error {
	keyFile := fs.String("key", "", "write the private key to `file` (required; never overwritten)")
	pubFile := fs.String("pub", "", "write the public key to `file`; it is printed in any case")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *keyFile == "" {
		return errors.New("keygen: -key is required")
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(*keyFile, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return err
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	if *pubFile != "" {
		if err := os.WriteFile(*pubFile, pubPEM, 0o644); err != nil {
			return err
		}
	}
	_, err = stdout.Write(pubPEM)
	return err
}

// stringList is a repeatable flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, splitList(v)...); return nil }

func mint(fs *flag.FlagSet, args []string, stdout io.Writer) error {
	var origins, allow, deny, endpoints stringList
	keyFile := fs.String("key", "", "private key `file` (required)")
	ttl := fs.Duration("ttl", time.Hour, "how long the token is valid")
	sub := fs.String("sub", "", "`subject`: who holds the token, for the bridge's log")
	fs.Var(&origins, "origin", "bind the token to pages of this `origin` (pattern as -origins; repeatable)")
	fs.Var(&allow, "allow", "destination `rules` the token grants (replacing the bridge's allow rules; repeatable)")
	fs.Var(&deny, "deny", "destination `rules` the token refuses, besides the bridge's deny rules (repeatable)")
	udp := fs.Bool("udp", false, "grant UDP streams")
	listenPorts := fs.String("listen-ports", "", "grant listening on public ports in this `range`, within the bridge's")
	fs.Var(&endpoints, "endpoints", "grant registering endpoints that these `rules` name, e.g. 'chat.wasmnet.internal:80' (repeatable)")
	sessions := fs.Int("sessions", 0, "sessions at once with this token (0: the bridge's limit)")
	streams := fs.Int("streams", 0, "streams per session (0: the bridge's limit)")
	rate := new(size)
	fs.Var(rate, "rate", "bytes per second per session, each way, e.g. 1MiB (0: the bridge's limit)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *keyFile == "" {
		return errors.New("mint: -key is required")
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("mint: unexpected argument %q", fs.Arg(0))
	}
	key, err := readPrivateKey(*keyFile)
	if err != nil {
		return err
	}
	now := time.Now()
	var id [8]byte
	rand.Read(id[:])
	c := bridge.Claims{
		Subject:  *sub,
		ID:       hex.EncodeToString(id[:]),
		IssuedAt: now.Unix(),
		Expires:  now.Add(*ttl).Unix(),
		Origins:  origins,
		Allow:    allow,
		Deny:     deny,
		UDP:      *udp,
		Limits:   bridge.TokenLimits{Sessions: *sessions, Streams: *streams, Rate: int64(*rate)},
	}
	if *listenPorts != "" || len(endpoints) > 0 {
		c.Listen = &bridge.ListenScope{Ports: *listenPorts, Endpoints: endpoints}
	}
	tok, err := bridge.MintToken(key, c)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}

func inspect(fs *flag.FlagSet, args []string, stdout io.Writer) error {
	pubFile := fs.String("pub", "", "check the signature against the public keys in `file`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("inspect: want one token")
	}
	tok := fs.Arg(0)
	if tok == "-" {
		b, err := io.ReadAll(os.Stdin)
		if err != nil {
			return err
		}
		tok = strings.TrimSpace(string(b))
	}
	tok = strings.TrimPrefix(tok, bridge.TokenProtocolPrefix)
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return errors.New("inspect: not a token")
	}
	claims, err := decodeSegment(parts[1])
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "fingerprint %s\n%s\n", bridge.TokenFingerprint(tok), claims)
	if *pubFile == "" {
		fmt.Fprintln(stdout, "signature not checked (no -pub)")
		return nil
	}
	keys, err := readPublicKeys(*pubFile)
	if err != nil {
		return err
	}
	if _, err := bridge.ParseToken(tok, keys, time.Now()); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "valid")
	return nil
}

func decodeSegment(s string) (string, error) {
	var v any
	b, err := base64URL(s)
	if err == nil {
		err = json.Unmarshal(b, &v)
	}
	if err != nil {
		return "", fmt.Errorf("inspect: claims: %w", err)
	}
	out, _ := json.MarshalIndent(v, "", "  ")
	return string(out), nil
}

func readPrivateKey(file string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%s: no PEM PRIVATE KEY", file)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: not an Ed25519 key", file)
	}
	return priv, nil
}

// readPublicKeys reads every PEM PUBLIC KEY in file; a private key file
// works too, for its public half.
func readPublicKeys(file string) ([]ed25519.PublicKey, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var keys []ed25519.PublicKey
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			break
		}
		var k any
		switch block.Type {
		case "PUBLIC KEY":
			k, err = x509.ParsePKIXPublicKey(block.Bytes)
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		switch k := k.(type) {
		case ed25519.PublicKey:
			keys = append(keys, k)
		case ed25519.PrivateKey:
			keys = append(keys, k.Public().(ed25519.PublicKey))
		default:
			return nil, fmt.Errorf("%s: not an Ed25519 key", file)
		}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s: no PEM public key", file)
	}
	return keys, nil
}

func base64URL(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }
