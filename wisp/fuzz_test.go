package wisp_test

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/wasmnet/wasmnet/wisp"
)

// corpusDir holds the committed seed corpus of FuzzDecode: every vector of
// docs/PROTOCOL.md, valid and invalid.
const corpusDir = "testdata/fuzz/FuzzDecode"

// FuzzDecode checks that Decode never panics, that it fails only with a
// *DecodeError, and that the encoding is canonical: whatever Decode
// accepts, Append writes back byte for byte, with one exception. The
// address pairs of OPENED and ACCEPT are written with an IPv4-mapped IPv6
// address in its 4-byte form, so a 16-byte mapped address changes on the
// first round trip; from the second on, nothing changes.
func FuzzDecode(f *testing.F) {
	for _, block := range []string{"vectors", "invalid-vectors"} {
		for _, v := range readVectors(f, block) {
			f.Add(v.Msg)
		}
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		orig := bytes.Clone(msg)
		p, err := wisp.Decode(msg)
		if !bytes.Equal(msg, orig) {
			t.Fatalf("Decode modified its input")
		}
		if err != nil {
			var de *wisp.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("Decode(%x) failed with %T %v, want a *wisp.DecodeError", msg, err, err)
			}
			if de.Len != len(msg) {
				t.Fatalf("Decode(%x): DecodeError.Len = %d, want %d", msg, de.Len, len(msg))
			}
			if !packetsEqual(p, wisp.Packet{}) {
				t.Fatalf("Decode(%x) failed but returned %s", msg, dump(p))
			}
			return
		}
		if len(msg) < wisp.HeaderLen || p.Type != wisp.Type(msg[0]) {
			t.Fatalf("Decode(%x) = %s", msg, dump(p))
		}

		// First round trip: the same packet, up to the unmapping of
		// addresses.
		enc1 := p.Append(nil)
		p1, err := wisp.Decode(enc1)
		if err != nil {
			t.Fatalf("Decode(Append(%s)) = %v (encoded %x)", dump(p), err, enc1)
		}
		if !packetsEqual(unmapAddrs(p), p1) {
			t.Fatalf("round trip changed the packet\nfrom %s\n  to %s", dump(p), dump(p1))
		}
		if !hasMappedAddr(p) && !bytes.Equal(enc1, msg) {
			t.Fatalf("encoding is not canonical: %x decodes to %s, which encodes to %x", msg, dump(p), enc1)
		}

		// Second round trip: nothing changes any more.
		enc2 := p1.Append(nil)
		if !bytes.Equal(enc2, enc1) {
			t.Fatalf("second encoding differs: %x, then %x", enc1, enc2)
		}
		p2, err := wisp.Decode(enc2)
		if err != nil || !packetsEqual(p2, p1) {
			t.Fatalf("second round trip: %s, %v; want %s", dump(p2), err, dump(p1))
		}
	})
}

// hasMappedAddr reports whether p carries an IPv4-mapped IPv6 address,
// which Append writes in the 4-byte form.
func hasMappedAddr(p wisp.Packet) bool {
	return !packetsEqual(unmapAddrs(p), p)
}

// unmapAddrs returns p with the addresses of its OPENED or ACCEPT payload
// unmapped, as a round trip through Append leaves them.
func unmapAddrs(p wisp.Packet) wisp.Packet {
	unmap := func(ap *netip.AddrPort) {
		*ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	unmap(&p.Opened.Remote)
	unmap(&p.Opened.Local)
	unmap(&p.Accept.Remote)
	unmap(&p.Accept.Local)
	return p
}

// TestFuzzCorpusHasVectors keeps the committed seed corpus in step with
// the document: every vector has a corpus file with its exact bytes.
func TestFuzzCorpusHasVectors(t *testing.T) {
	entries, err := os.ReadDir(corpusDir)
	if err != nil {
		t.Fatal(err)
	}
	corpus := map[string][]byte{}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(corpusDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		msg, err := parseCorpusFile(string(data))
		if err != nil {
			t.Errorf("%s: %v", e.Name(), err)
			continue
		}
		corpus[e.Name()] = msg
	}
	for prefix, block := range map[string]string{"valid-": "vectors", "invalid-": "invalid-vectors"} {
		for _, v := range readVectors(t, block) {
			name := prefix + v.Name
			msg, ok := corpus[name]
			if !ok {
				t.Errorf("%s/%s is missing", corpusDir, name)
			} else if !bytes.Equal(msg, v.Msg) {
				t.Errorf("%s/%s holds %s, the document says %s", corpusDir, name, formatHex(msg), formatHex(v.Msg))
			}
		}
	}
}

// parseCorpusFile reads a "go test fuzz v1" file of one []byte value.
func parseCorpusFile(s string) ([]byte, error) {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) != 2 || lines[0] != "go test fuzz v1" {
		return nil, errors.New(`want the line "go test fuzz v1" and one value`)
	}
	v := lines[1]
	if !strings.HasPrefix(v, "[]byte(") || !strings.HasSuffix(v, ")") {
		return nil, errors.New("the value is not a []byte")
	}
	str, err := strconv.Unquote(v[len("[]byte(") : len(v)-1])
	if err != nil {
		return nil, err
	}
	return []byte(str), nil
}
