//go:build !js && !wasip1

package bridge

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// A capability token is a signed, expiring statement of what one client
// may do through the bridge. The operator, or a web application that holds
// the operator's private key, mints it; the bridge holds only public keys
// and checks the signature, the expiry and the origin at the WebSocket
// handshake. Its text form is
//
//	w1.<claims>.<signature>
//
// where claims is the unpadded base64url of the JSON encoding of Claims,
// and signature is the unpadded base64url of the Ed25519 signature of
// everything before the second dot. Every character is one a WebSocket
// subprotocol may hold, so a browser can offer it as
// "wasmnet.token.<token>".
//
// A token grants exactly what it names. Its allow rules replace the
// bridge's allow rules for the session; the bridge's deny rules and the
// protection of special ranges still apply (unless TokenConfig.OpenSpecial
// lets token rules open special ranges as the operator's own rules can).
// Listening, UDP and the limits come only from the token, within what the
// bridge allows.
type Claims struct {
	// Subject names the holder, for the log. It is not secret.
	Subject string `json:"sub,omitempty"`
	// ID tells tokens of one subject apart, for the log.
	ID string `json:"jti,omitempty"`
	// IssuedAt, NotBefore and Expires are Unix times in seconds.
	// Expires is required.
	IssuedAt  int64 `json:"iat,omitempty"`
	NotBefore int64 `json:"nbf,omitempty"`
	Expires   int64 `json:"exp"`

	// Origins, if set, binds the token to pages of these origins, in the
	// pattern syntax of Config.OriginPatterns ("app.example.com",
	// "https://*.example.com"). A handshake without an Origin header is
	// then refused too.
	Origins []string `json:"origins,omitempty"`

	// Allow and Deny are destination rules in the syntax of ParseRule.
	// Without allow rules the token reaches no destination.
	Allow []string `json:"allow,omitempty"`
	Deny  []string `json:"deny,omitempty"`

	// Listen grants listening; nil grants none.
	Listen *ListenScope `json:"listen,omitempty"`

	// UDP grants UDP streams.
	UDP bool `json:"udp,omitempty"`

	// Limits narrow the bridge's limits for this token's sessions.
	Limits TokenLimits `json:"limits,omitzero"`
}

// ListenScope is what a token lets its holder listen on, within the
// bridge's ListenConfig.
type ListenScope struct {
	// Ports is a range of public ports, such as "20000-20009" or "8080".
	Ports string `json:"ports,omitempty"`
	// Endpoints are rules naming the endpoints the holder may register,
	// such as "chat.wasmnet.internal:80" or "*.alice.wasmnet.internal".
	Endpoints []string `json:"endpoints,omitempty"`
}

// TokenLimits narrow the bridge's limits: each nonzero value applies when
// it is lower than the bridge's own.
type TokenLimits struct {
	Sessions int   `json:"sessions,omitempty"` // sessions open at once with this token
	Streams  int   `json:"streams,omitempty"`  // streams and listeners per session
	Rate     int64 `json:"rate,omitempty"`     // bytes per second per session, each way
}

// Token errors. A session is refused with a WebSocket close status that
// tells them apart; see CloseTokenInvalid and the codes beside it.
var (
	ErrTokenMissing     = errors.New("bridge token required")
	ErrTokenInvalid     = errors.New("bridge token invalid")
	ErrTokenExpired     = errors.New("bridge token expired")
	ErrTokenNotYetValid = errors.New("bridge token not yet valid")
	ErrTokenOrigin      = errors.New("bridge token not valid for this origin")
)

const (
	tokenVersion = "w1"
	// maxToken bounds what the bridge parses; a header line is kept
	// short by proxies anyway.
	maxToken = 4096
)

var b64 = base64.RawURLEncoding.Strict()

// MintToken signs claims with key. The claims are checked as the bridge
// will check them, so a token that would be refused is not minted.
func MintToken(key ed25519.PrivateKey, c Claims) (string, error) {
	if _, err := compileToken(c); err != nil {
		return "", err
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	signed := tokenVersion + "." + b64.EncodeToString(payload)
	tok := signed + "." + b64.EncodeToString(ed25519.Sign(key, []byte(signed)))
	if len(tok) > maxToken {
		return "", fmt.Errorf("token is %d bytes; at most %d are accepted", len(tok), maxToken)
	}
	return tok, nil
}

// ParseToken checks a token's signature against keys and its validity at
// now, and returns its claims. The error wraps ErrTokenInvalid,
// ErrTokenExpired or ErrTokenNotYetValid.
func ParseToken(tok string, keys []ed25519.PublicKey, now time.Time) (Claims, error) {
	t, err := verifyToken(tok, keys, now)
	if err != nil {
		return Claims{}, err
	}
	return t.claims, nil
}

// TokenFingerprint is what the log and the metrics show of a token: the
// first 48 bits of its SHA-256, which name it without revealing it.
func TokenFingerprint(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:6])
}

// token is a verified token, compiled for the session it authorizes.
type token struct {
	claims      Claims
	fingerprint string
	expires     time.Time
	allow, deny []Rule
	portLow     uint16 // public ports; both 0: none
	portHigh    uint16
	endpoints   []Rule
}

func verifyToken(tok string, keys []ed25519.PublicKey, now time.Time) (*token, error) {
	invalid := func(why string) error { return fmt.Errorf("%w: %s", ErrTokenInvalid, why) }
	if len(tok) > maxToken {
		return nil, invalid("too long")
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || parts[0] != tokenVersion {
		return nil, invalid("not a " + tokenVersion + " token")
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil || len(sig) != ed25519.SignatureSize {
		return nil, invalid("bad signature encoding")
	}
	signed := []byte(tok[:len(parts[0])+1+len(parts[1])])
	ok := false
	for _, k := range keys {
		if len(k) == ed25519.PublicKeySize && ed25519.Verify(k, signed, sig) {
			ok = true
			break
		}
	}
	if !ok {
		return nil, invalid("signature does not match any key")
	}
	payload, err := b64.DecodeString(parts[1])
	if err != nil {
		return nil, invalid("bad claims encoding")
	}
	var c Claims
	dec := json.NewDecoder(bytes.NewReader(payload))
	// A field this bridge does not know may be a restriction it would
	// fail to apply: refuse rather than grant more than was meant.
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, invalid("claims: " + err.Error())
	}
	t, err := compileToken(c)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTokenInvalid, err)
	}
	t.fingerprint = TokenFingerprint(tok)
	switch {
	case !now.Before(t.expires):
		return nil, fmt.Errorf("%w at %s", ErrTokenExpired, t.expires.UTC().Format(time.RFC3339))
	case c.NotBefore != 0 && now.Before(time.Unix(c.NotBefore, 0)):
		return nil, fmt.Errorf("%w until %s", ErrTokenNotYetValid, time.Unix(c.NotBefore, 0).UTC().Format(time.RFC3339))
	}
	return t, nil
}

// compileToken checks claims and parses their rules.
func compileToken(c Claims) (*token, error) {
	if c.Expires <= 0 {
		return nil, errors.New("token has no expiry")
	}
	t := &token{claims: c, expires: time.Unix(c.Expires, 0)}
	var err error
	if t.allow, err = ParseRules(strings.Join(c.Allow, ",")); err != nil {
		return nil, fmt.Errorf("allow: %w", err)
	}
	if t.deny, err = ParseRules(strings.Join(c.Deny, ",")); err != nil {
		return nil, fmt.Errorf("deny: %w", err)
	}
	for _, o := range c.Origins {
		if _, err := matchOrigin(o, "https", "example.com"); err != nil {
			return nil, fmt.Errorf("origins: %w", err)
		}
	}
	if l := c.Listen; l != nil {
		if l.Ports != "" {
			if t.portLow, t.portHigh, err = ParsePortRange(l.Ports); err != nil {
				return nil, fmt.Errorf("listen ports: %w", err)
			}
		}
		if t.endpoints, err = ParseRules(strings.Join(l.Endpoints, ",")); err != nil {
			return nil, fmt.Errorf("listen endpoints: %w", err)
		}
		for _, r := range t.endpoints {
			if r.Host == "" && r.Suffix == "" || !isEndpoint(r.Host+r.Suffix) {
				return nil, fmt.Errorf("listen endpoint %q is not a name under %s", r, EndpointSuffix)
			}
		}
	}
	if c.Limits.Sessions < 0 || c.Limits.Streams < 0 || c.Limits.Rate < 0 {
		return nil, errors.New("negative limit")
	}
	return t, nil
}

// ParsePortRange parses "LOW-HIGH" or a single port.
func ParsePortRange(s string) (low, high uint16, err error) {
	lo, hi, found := strings.Cut(s, "-")
	if !found {
		hi = lo
	}
	l, err1 := strconv.ParseUint(lo, 10, 16)
	h, err2 := strconv.ParseUint(hi, 10, 16)
	if err1 != nil || err2 != nil || l == 0 || l > h {
		return 0, 0, fmt.Errorf("bad port range %q", s)
	}
	return uint16(l), uint16(h), nil
}
