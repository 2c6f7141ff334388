//go:build js && wasm

package jsapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"

	"github.com/hack-pad/safejs"

	"github.com/wasmnet/wasmnet/wasm/internal/webapi"
	"github.com/wasmnet/wasmnet/wasm/wasmnet"
	"github.com/wasmnet/wasmnet/wisp"
)

// maxDatagram is the largest UDP payload: a read buffer this size never
// cuts a datagram short.
const maxDatagram = 65507

// dialUdp(host, port, options?) opens a connected UDP socket: a Wisp UDP
// stream to host:port. It is a socket like dial's, whose read() returns
// one datagram and whose write() sends one.
func (a *api) dialUDP(args []safejs.Value) (any, error) {
	addr, opts, err := dialArgs("dialUdp", args)
	if err != nil {
		return nil, err
	}
	if opts.tls != nil {
		return nil, typeError("UDP has no TLS")
	}
	conn, err := a.dialers.get(opts.window).DialContext(context.Background(), "udp", addr)
	if err != nil {
		return nil, domError(err)
	}
	return a.addSocket(&socket{conn: conn, stream: conn})
}

// packetSocket is a bound UDP socket: a wasmnet.PacketConn, which opens a
// UDP stream through the bridge for each address it sends to and hears
// only from those.
type packetSocket struct {
	pc net.PacketConn
	d  *wasmnet.Dialer // whose bridge resolves the names sent to

	rmu  sync.Mutex // one readFrom at a time
	rbuf []byte
	wmu  sync.Mutex // one writeTo at a time
	wbuf []byte
}

func (p *packetSocket) shut() error { return p.pc.Close() }

// listenPacket(options?) opens a bound UDP socket. The bridge chooses its
// sockets, one per destination, so there is no local address to ask for;
// the info reports the unspecified address and port 0.
func (a *api) listenPacket(args []safejs.Value) (any, error) {
	opts, err := parseDialOptions(arg(args, 0))
	if err != nil {
		return nil, err
	}
	if opts.tls != nil {
		return nil, typeError("UDP has no TLS")
	}
	d := a.dialers.get(opts.window)
	pc, err := d.ListenPacketContext(context.Background(), "udp", ":0")
	if err != nil {
		return nil, domError(err)
	}
	p := &packetSocket{pc: pc, d: d}
	fields := map[string]any{"id": a.handles.add(p)}
	addAddr(fields, "local", pc.LocalAddr())
	return object(fields)
}

// readFrom(id) returns the next datagram, {data, remoteAddress,
// remotePort}, from any address the socket sent to. Like read(), it takes
// a datagram from Go only when JavaScript asks.
func (a *api) readFrom(args []safejs.Value) (any, error) {
	p, err := lookup[*packetSocket](&a.handles, args)
	if err != nil {
		return nil, err
	}
	p.rmu.Lock()
	defer p.rmu.Unlock()
	if p.rbuf == nil {
		p.rbuf = make([]byte, maxDatagram)
	}
	n, from, err := p.pc.ReadFrom(p.rbuf)
	if err != nil {
		return nil, domError(err)
	}
	data, err := webapi.Bytes(p.rbuf[:n])
	if err != nil {
		return nil, err
	}
	fields := map[string]any{"data": data}
	addAddr(fields, "remote", from)
	return object(fields)
}

// writeTo(id, data, host, port, options?) sends data as one datagram to
// host:port. A host name is resolved by the bridge (options.dnsQueryType
// "ipv4" or "ipv6" picks the family) on every write; the first datagram
// to an address opens its stream, and the bridge's policy is checked
// then.
func (a *api) writeTo(args []safejs.Value) (any, error) {
	p, err := lookup[*packetSocket](&a.handles, args)
	if err != nil {
		return nil, err
	}
	if len(args) < 4 {
		return nil, typeError("writeTo(data, host, port) needs data, a host and a port")
	}
	host, ok := text(args[2])
	if !ok || host == "" {
		return nil, typeError("the host must be a non-empty string")
	}
	port, ok := number(args[3])
	if !ok || port < 1 || port > 65535 {
		return nil, typeError("the port must be a number from 1 to 65535")
	}
	network := "ip"
	if o := arg(args, 4); !absent(o) {
		if q, ok := prop(o, "dnsQueryType"); ok {
			switch s, _ := text(q); s {
			case "ipv4":
				network = "ip4"
			case "ipv6":
				network = "ip6"
			default:
				return nil, typeError(`dnsQueryType must be "ipv4" or "ipv6"`)
			}
		}
	}
	p.wmu.Lock()
	defer p.wmu.Unlock()
	// PacketConn copies what it is given, so one buffer serves every write.
	p.wbuf, err = webapi.AppendBytes(p.wbuf, args[1])
	if err != nil {
		return nil, typeError("writeTo() takes a BufferSource (an ArrayBuffer or a view of one)")
	}
	ip, err := p.resolve(network, host)
	if err != nil {
		return nil, err
	}
	_, err = p.pc.WriteTo(p.wbuf, net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port))))
	if cap(p.wbuf) > 1<<20 {
		p.wbuf = nil
	}
	if err != nil {
		return nil, domError(err)
	}
	return nil, nil
}

// resolve returns host's address: host itself if it is an IP address, else
// the first address the bridge's resolver gives for network.
func (p *packetSocket) resolve(network, host string) (netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip.Unmap(), nil
	}
	r := &wasmnet.Resolver{Dialer: p.d}
	ips, err := r.LookupNetIP(context.Background(), network, host)
	if err != nil {
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) && dnsErr.Err == wisp.StatusHidden.String() {
			return netip.Addr{}, named(notAllowed, fmt.Errorf("wasmnet: the bridge's policy does not allow datagrams to %s (%w)", host, err))
		}
		return netip.Addr{}, named(networkError, fmt.Errorf("wasmnet: cannot resolve %s: %w", host, err))
	}
	return ips[0].Unmap(), nil
}
