//go:build !js && !wasip1

package bridge

import (
	"encoding/binary"
	"testing"

	"github.com/wasmnet/wasmnet/internal/services"
	"github.com/wasmnet/wasmnet/wisp"
)

// The bridge returns credit in grants of half the credit to a client that
// sets its credit to each CONTINUE, as Wisp says, and in grants of an
// eighth to one that negotiated the credit extension and adds them up.
// Either client, sending as fast as its own books allow, has every packet
// taken and never exceeds the credit.
func TestCreditGrants(t *testing.T) {
	for _, tc := range []struct {
		name string
		adds bool
		want uint32 // each grant, of the default credit of 32
	}{
		{"sets", false, 16},
		{"adds", true, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := loopbackBridge(t)
			info := dialV2(t, b).info
			if _, ok := info.Ext(wisp.ExtCredit); !ok {
				t.Fatalf("the bridge's INFO does not list the credit extension: %+v", info.Extensions)
			}
			sink, err := services.Sink("127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { sink.Close() })

			exts := []wisp.ExtID{wisp.ExtHalfClose}
			if tc.adds {
				exts = append(exts, wisp.ExtCredit)
			}
			s := dialV2(t, b, exts...)
			if s.credit != 32 {
				t.Fatalf("credit is %d, want the default 32", s.credit)
			}
			const id, packets, size = 1, 200, 1000
			s.connect(id, sink.Addr().String())

			credit, sent := s.credit, 0
			var grants []uint32
			take := func(p wisp.Packet) {
				switch {
				case p.Type == wisp.TypeContinue && p.Stream == id:
					grants = append(grants, p.Credit)
					if tc.adds {
						credit += p.Credit
					} else {
						credit = p.Credit
					}
				case p.Type == wisp.TypeClose:
					t.Fatalf("stream closed with reason %v after %d packets", p.Reason, sent)
				}
			}
			payload := make([]byte, size)
			for sent < packets {
				for credit == 0 {
					take(s.next())
				}
				s.data(id, payload)
				credit--
				sent++
			}
			s.send(wisp.Packet{Type: wisp.TypeFin, Stream: id})

			// The sink answers the FIN with the count of bytes it read.
			var got []byte
			for len(got) < 8 {
				p := s.next()
				if p.Type == wisp.TypeData && p.Stream == id {
					got = append(got, p.Data...)
					continue
				}
				take(p)
			}
			if n := binary.BigEndian.Uint64(got); n != packets*size {
				t.Fatalf("the sink read %d bytes, want %d", n, packets*size)
			}
			for i, g := range grants {
				if g != tc.want {
					t.Fatalf("grant %d of %v is %d, want %d", i, grants, g, tc.want)
				}
			}
			// Added up, grants return at most the packets the bridge took.
			if tc.adds && len(grants)*int(tc.want) > packets {
				t.Fatalf("%d grants of %d for %d packets: more credit back than packets sent", len(grants), tc.want, packets)
			}
			t.Logf("%d grants of %d", len(grants), tc.want)
		})
	}
}
