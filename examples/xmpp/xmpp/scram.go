package xmpp

import (
	"bytes"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
)

// SCRAM (RFC 5802, RFC 7677) proves both ways that each side knows the
// password, and the password never crosses the wire. This client does
// not do channel binding: it sends the gs2 header "n,,".

type scramHash struct {
	name string
	new  func() hash.Hash
}

var (
	scramSHA1   = scramHash{"SCRAM-SHA-1", sha1.New}
	scramSHA256 = scramHash{"SCRAM-SHA-256", sha256.New}
)

// Bounds on the server's iteration count: below the minimum RFC 7677
// recommends, the stored keys are too cheap to attack; far above any
// server's setting, a hostile server could freeze the client.
const (
	minIterations = 4096
	maxIterations = 1 << 20
)

// newNonce makes the client's nonce; tests replace it.
var newNonce = func() string {
	b := make([]byte, 18)
	rand.Read(b)
	return base64.RawStdEncoding.EncodeToString(b)
}

const gs2Header = "n,,"

type scram struct {
	h               scramHash
	user, password  string
	nonce           string
	clientFirstBare string
	serverSignature []byte
	step            int
	verified        bool
}

func newSCRAM(h scramHash, user, password string) *scram {
	return &scram{h: h, user: user, password: password}
}

func (s *scram) Start() (string, []byte, error) {
	s.nonce = newNonce()
	s.clientFirstBare = "n=" + saslName(s.user) + ",r=" + s.nonce
	s.step = 1
	return s.h.name, []byte(gs2Header + s.clientFirstBare), nil
}

func (s *scram) Next(challenge []byte) ([]byte, error) {
	switch s.step {
	case 1:
		s.step = 2
		return s.clientFinal(string(challenge))
	case 2:
		s.step = 3
		return []byte{}, s.checkServerFinal(string(challenge))
	}
	return nil, errors.New("scram: unexpected challenge after the exchange")
}

// clientFinal answers the server-first-message with the proof.
func (s *scram) clientFinal(serverFirst string) ([]byte, error) {
	attrs, err := scramAttrs(serverFirst)
	if err != nil {
		return nil, err
	}
	if _, ok := attrs['m']; ok {
		return nil, errors.New("scram: the server requires an extension")
	}
	nonce, salt64, iter := attrs['r'], attrs['s'], attrs['i']
	if !strings.HasPrefix(nonce, s.nonce) || len(nonce) == len(s.nonce) {
		return nil, errors.New("scram: the server's nonce does not extend ours")
	}
	salt, err := base64.StdEncoding.DecodeString(salt64)
	if err != nil || len(salt) == 0 {
		return nil, errors.New("scram: bad salt")
	}
	n, err := strconv.Atoi(iter)
	if err != nil || n < minIterations || n > maxIterations {
		return nil, fmt.Errorf("scram: iteration count %q outside [%d, %d]", iter, minIterations, maxIterations)
	}

	salted, err := pbkdf2.Key(s.h.new, s.password, salt, n, s.h.new().Size())
	if err != nil {
		return nil, err
	}
	clientKey := s.hmac(salted, "Client Key")
	storedKey := s.sum(clientKey)
	withoutProof := "c=" + base64.StdEncoding.EncodeToString([]byte(gs2Header)) + ",r=" + nonce
	authMessage := s.clientFirstBare + "," + serverFirst + "," + withoutProof
	proof := s.hmac(storedKey, authMessage)
	for i := range proof {
		proof[i] ^= clientKey[i]
	}
	s.serverSignature = s.hmac(s.hmac(salted, "Server Key"), authMessage)
	return []byte(withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof)), nil
}

// checkServerFinal checks the server's signature: the server's proof that
// it knows the password too.
func (s *scram) checkServerFinal(serverFinal string) error {
	attrs, err := scramAttrs(serverFinal)
	if err != nil {
		return err
	}
	if e, ok := attrs['e']; ok {
		return errors.New("scram: the server says: " + e)
	}
	v, err := base64.StdEncoding.DecodeString(attrs['v'])
	if err != nil || subtle.ConstantTimeCompare(v, s.serverSignature) != 1 {
		return errors.New("scram: the server's signature is wrong: it does not know the password")
	}
	s.verified = true
	return nil
}

func (s *scram) serverVerified() bool { return s.verified }

func (s *scram) hmac(key []byte, msg string) []byte {
	m := hmac.New(s.h.new, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func (s *scram) sum(b []byte) []byte {
	h := s.h.new()
	h.Write(b)
	return h.Sum(nil)
}

// scramAttrs splits "a=1,b=2" into its attributes.
func scramAttrs(msg string) (map[byte]string, error) {
	attrs := map[byte]string{}
	for _, kv := range strings.Split(msg, ",") {
		if len(kv) < 2 || kv[1] != '=' {
			return nil, fmt.Errorf("scram: malformed message %q", msg)
		}
		attrs[kv[0]] = kv[2:]
	}
	return attrs, nil
}

// saslName escapes a user name for SCRAM: "=" and "," are special.
func saslName(s string) string {
	var b bytes.Buffer
	for _, r := range s {
		switch r {
		case '=':
			b.WriteString("=3D")
		case ',':
			b.WriteString("=2C")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
