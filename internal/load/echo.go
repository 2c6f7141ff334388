package load

import (
	"net"

	"github.com/wasmnet/wasmnet/internal/services"
)

// Echo starts a server on addr that sends back what it reads, and passes
// on the client's half-close. Unlike services.Echo it copies through a
// buffer of its own: io.Copy between TCP connections splices through a
// pipe, and with thousands of connections at once the pipes (two
// descriptors each) outnumber the sockets.
func Echo(addr string) (*services.Server, error) {
	return services.Serve(addr, func(_ *services.Server, c net.Conn) {
		buf := make([]byte, chunk)
		for {
			n, err := c.Read(buf)
			if n > 0 {
				if _, werr := c.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				c.(*net.TCPConn).CloseWrite()
				return
			}
		}
	})
}
