package wisp

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// QueryType is the kind of records a RESOLVE asks for.
type QueryType uint8

// Query types.
const (
	QueryIP    QueryType = 0x01 // A and AAAA records
	QueryMX    QueryType = 0x02
	QuerySRV   QueryType = 0x03 // the name is "_service._proto.domain"
	QueryTXT   QueryType = 0x04
	QueryCNAME QueryType = 0x05
)

func (q QueryType) String() string {
	switch q {
	case QueryIP:
		return "IP"
	case QueryMX:
		return "MX"
	case QuerySRV:
		return "SRV"
	case QueryTXT:
		return "TXT"
	case QueryCNAME:
		return "CNAME"
	}
	return fmt.Sprintf("query type 0x%02x", uint8(q))
}

// Query is the payload of a RESOLVE packet.
type Query struct {
	Type QueryType
	Name string
}

// Status says how a lookup went.
type Status uint8

// Lookup outcomes.
const (
	StatusOK        Status = 0x00
	StatusNotFound  Status = 0x01 // the name does not exist or has no such records
	StatusTemporary Status = 0x02 // a timeout or a server failure: try again later
	StatusHidden    Status = 0x03 // every answer was an address the bridge's policy hides
	StatusError     Status = 0x04 // a query the bridge cannot answer, such as a bad name
)

var statusText = map[Status]string{
	StatusOK:        "ok",
	StatusNotFound:  "no such host",
	StatusTemporary: "temporary failure",
	StatusHidden:    "answer hidden by bridge policy",
	StatusError:     "query refused",
}

func (s Status) String() string {
	if t, ok := statusText[s]; ok {
		return t
	}
	return fmt.Sprintf("status 0x%02x", uint8(s))
}

// MX is one mail exchanger.
type MX struct {
	Pref uint16
	Host string
}

// SRV is one service record.
type SRV struct {
	Priority, Weight, Port uint16
	Target                 string
}

// Answer is the payload of a RESOLVED packet. Type and Status are always
// set; the records of Type fill their field when Status is StatusOK.
type Answer struct {
	Type   QueryType
	Status Status
	IPs    []netip.Addr // QueryIP
	MX     []MX         // QueryMX
	SRV    []SRV        // QuerySRV
	TXT    []string     // QueryTXT
	CNAME  string       // QuerySRV and QueryCNAME: the canonical name
}

func (a *Answer) append(b []byte) []byte {
	b = append(b, byte(a.Type), byte(a.Status))
	if a.Status != StatusOK {
		return b
	}
	switch a.Type {
	case QueryIP:
		for _, ip := range a.IPs {
			if ip.Is4() {
				v := ip.As4()
				b = append(append(b, 4), v[:]...)
			} else {
				v := ip.As16()
				b = append(append(b, 16), v[:]...)
			}
		}
	case QueryMX:
		for _, mx := range a.MX {
			b = binary.LittleEndian.AppendUint16(b, mx.Pref)
			b = appendName(b, mx.Host)
		}
	case QuerySRV:
		b = appendName(b, a.CNAME)
		for _, srv := range a.SRV {
			b = binary.LittleEndian.AppendUint16(b, srv.Priority)
			b = binary.LittleEndian.AppendUint16(b, srv.Weight)
			b = binary.LittleEndian.AppendUint16(b, srv.Port)
			b = appendName(b, srv.Target)
		}
	case QueryTXT:
		for _, txt := range a.TXT {
			txt = txt[:min(len(txt), 0xFFFF)]
			b = binary.LittleEndian.AppendUint16(b, uint16(len(txt)))
			b = append(b, txt...)
		}
	case QueryCNAME:
		b = appendName(b, a.CNAME)
	}
	return b
}

// appendName appends a name with a one-byte length. DNS names fit; a
// longer string is cut to 255 bytes, so that its length stays true.
func appendName(b []byte, name string) []byte {
	name = name[:min(len(name), 0xFF)]
	return append(append(b, byte(len(name))), name...)
}

func parseAnswer(b []byte) (Answer, error) {
	if len(b) < 2 {
		return Answer{}, fmt.Errorf("payload is %d bytes, want at least 2", len(b))
	}
	a := Answer{Type: QueryType(b[0]), Status: Status(b[1])}
	rest := b[2:]
	if a.Status != StatusOK {
		if len(rest) != 0 {
			return Answer{}, fmt.Errorf("%d bytes of records after status %v", len(rest), a.Status)
		}
		return a, nil
	}
	var err error
	name := func() string {
		if err != nil {
			return ""
		}
		if len(rest) < 1 || len(rest) < 1+int(rest[0]) {
			err = fmt.Errorf("name is truncated")
			return ""
		}
		n := 1 + int(rest[0]) // not rest[0]+1, which wraps at 255
		s := string(rest[1:n])
		rest = rest[n:]
		return s
	}
	u16 := func() uint16 {
		if err != nil {
			return 0
		}
		if len(rest) < 2 {
			err = fmt.Errorf("record is truncated")
			return 0
		}
		v := binary.LittleEndian.Uint16(rest)
		rest = rest[2:]
		return v
	}
	switch a.Type {
	case QueryIP:
		for len(rest) > 0 && err == nil {
			n := int(rest[0])
			switch {
			case n != 4 && n != 16:
				err = fmt.Errorf("address length is %d, want 4 or 16", n)
			case len(rest) < 1+n:
				err = fmt.Errorf("address is truncated")
			case n == 4:
				a.IPs = append(a.IPs, netip.AddrFrom4([4]byte(rest[1:5])))
			default:
				a.IPs = append(a.IPs, netip.AddrFrom16([16]byte(rest[1:17])))
			}
			if err == nil {
				rest = rest[1+n:]
			}
		}
	case QueryMX:
		for len(rest) > 0 && err == nil {
			mx := MX{Pref: u16()}
			mx.Host = name()
			a.MX = append(a.MX, mx)
		}
	case QuerySRV:
		a.CNAME = name()
		for len(rest) > 0 && err == nil {
			srv := SRV{Priority: u16(), Weight: u16(), Port: u16()}
			srv.Target = name()
			a.SRV = append(a.SRV, srv)
		}
	case QueryTXT:
		for len(rest) > 0 && err == nil {
			n := int(u16())
			if err == nil && len(rest) < n {
				err = fmt.Errorf("text is truncated")
			}
			if err == nil {
				a.TXT = append(a.TXT, string(rest[:n]))
				rest = rest[n:]
			}
		}
	case QueryCNAME:
		a.CNAME = name()
		if err == nil && len(rest) != 0 {
			err = fmt.Errorf("%d bytes after the name", len(rest))
		}
	default:
		err = fmt.Errorf("unknown query type 0x%02x", uint8(a.Type))
	}
	if err != nil {
		return Answer{}, err
	}
	return a, nil
}
