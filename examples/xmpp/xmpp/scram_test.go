package xmpp

import (
	"strings"
	"testing"
)

// The exchanges of RFC 5802, section 5 (SCRAM-SHA-1), and RFC 7677,
// section 3 (SCRAM-SHA-256): user "user", password "pencil".
var scramVectors = []struct {
	h                                                         scramHash
	nonce, clientFirst, serverFirst, clientFinal, serverFinal string
}{
	{
		h:           scramSHA1,
		nonce:       "fyko+d2lbbFgONRv9qkxdawL",
		clientFirst: "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
		serverFirst: "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
		clientFinal: "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
		serverFinal: "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=",
	},
	{
		h:           scramSHA256,
		nonce:       "rOprNGfwEbeRWgbNEkqO",
		clientFirst: "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
		serverFirst: "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
		clientFinal: "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
		serverFinal: "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
	},
}

func fixNonce(t *testing.T, nonce string) {
	saved := newNonce
	newNonce = func() string { return nonce }
	t.Cleanup(func() { newNonce = saved })
}

func TestSCRAMVectors(t *testing.T) {
	for _, v := range scramVectors {
		t.Run(v.h.name, func(t *testing.T) {
			fixNonce(t, v.nonce)
			s := newSCRAM(v.h, "user", "pencil")
			mech, ir, err := s.Start()
			if err != nil || mech != v.h.name || string(ir) != v.clientFirst {
				t.Fatalf("Start = %q, %q, %v", mech, ir, err)
			}
			final, err := s.Next([]byte(v.serverFirst))
			if err != nil || string(final) != v.clientFinal {
				t.Fatalf("client-final = %q, %v\nwant %q", final, err, v.clientFinal)
			}
			if s.serverVerified() {
				t.Fatal("verified before the server's signature")
			}
			resp, err := s.Next([]byte(v.serverFinal))
			if err != nil || len(resp) != 0 || !s.serverVerified() {
				t.Fatalf("server-final: %q, %v, verified %v", resp, err, s.serverVerified())
			}
		})
	}
}

func TestSCRAMRefuses(t *testing.T) {
	v := scramVectors[0]
	for _, tt := range []struct {
		name, serverFirst, serverFinal, want string
	}{
		{"a forged server signature", v.serverFirst, "v=" + strings.Repeat("A", 27) + "=", "signature is wrong"},
		{"an error from the server", v.serverFirst, "e=invalid-proof", "invalid-proof"},
		{"a nonce that is not ours", "r=someone+elses+nonce,s=QSXCR+Q6sek8bf92,i=4096", "", "nonce"},
		{"the same nonce back", "r=" + v.nonce + ",s=QSXCR+Q6sek8bf92,i=4096", "", "nonce"},
		{"too few iterations", strings.Replace(v.serverFirst, "i=4096", "i=1", 1), "", "iteration count"},
		{"too many iterations", strings.Replace(v.serverFirst, "i=4096", "i=999999999", 1), "", "iteration count"},
		{"a mandatory extension", "m=ext," + v.serverFirst, "", "extension"},
		{"garbage", "hello", "", "malformed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fixNonce(t, v.nonce)
			s := newSCRAM(scramSHA1, "user", "pencil")
			s.Start()
			_, err := s.Next([]byte(tt.serverFirst))
			if err == nil && tt.serverFinal != "" {
				_, err = s.Next([]byte(tt.serverFinal))
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error about %q", err, tt.want)
			}
			if s.serverVerified() {
				t.Fatal("verified")
			}
		})
	}
}

func TestSASLName(t *testing.T) {
	if got := saslName("a=b,c"); got != "a=3Db=2Cc" {
		t.Errorf("saslName = %q", got)
	}
}
