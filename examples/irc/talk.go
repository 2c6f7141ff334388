package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/wasmnet/wasmnet/examples/irc/irc"
	"github.com/wasmnet/wasmnet/wasm/wasmnet"
)

// run is the whole session, reported line by line on out.
func run(ctx context.Context, cfg config, out io.Writer) error {
	// The one wasmnet call: $WASMNET_BRIDGE, or /wisp/ on the page's origin.
	conn, err := wasmnet.DialContext(ctx, "tcp", cfg.server)
	if err != nil {
		return err
	}
	defer conn.Close()
	fmt.Fprintf(out, "connected to %s through the bridge\n", conn.RemoteAddr())

	// From here on it is IRC over a net.Conn, as over a kernel socket.
	c := irc.NewClient(conn)
	if err := c.Register(ctx, irc.Identity{Nick: cfg.nick, Password: cfg.password, RealName: "wasmnet example"}); err != nil {
		return err
	}
	fmt.Fprintf(out, "registered as %s\n", c.Nick())
	if err := c.Join(ctx, cfg.channel); err != nil {
		return err
	}
	fmt.Fprintf(out, "joined %s\n", cfg.channel)
	if cfg.say != "" {
		if err := c.Privmsg(ctx, cfg.channel, cfg.say); err != nil {
			return err
		}
		fmt.Fprintf(out, "<%s> %s\n", c.Nick(), cfg.say)
	}

	for heard := 0; heard < cfg.replies; {
		m, err := c.Next(ctx)
		if err != nil {
			return err
		}
		if show(out, m, c.Nick(), cfg.channel) {
			heard++
		}
	}
	if err := c.Quit(ctx, "wasmnet example done"); err != nil {
		return err
	}
	fmt.Fprintln(out, "left; done")
	return nil
}

// show prints what others do in the channel, or say to us, and tells
// whether it was something said.
func show(out io.Writer, m irc.Message, me, channel string) bool {
	ours := irc.Fold(m.Param(0)) == irc.Fold(channel) || irc.Fold(m.Param(0)) == irc.Fold(me)
	switch {
	case !ours || !strings.Contains(m.Source, "!") || irc.Fold(m.Nick()) == irc.Fold(me):
		// Not in our channel or to us, from a server, or our own echo.
	case m.Command == "PRIVMSG":
		fmt.Fprintf(out, "<%s> %s\n", m.Nick(), m.Trailing())
		return true
	case m.Command == "NOTICE":
		fmt.Fprintf(out, "-%s- %s\n", m.Nick(), m.Trailing())
		return true
	case m.Command == "JOIN":
		fmt.Fprintf(out, "* %s joined %s\n", m.Nick(), m.Param(0))
	case m.Command == "PART":
		fmt.Fprintf(out, "* %s left %s\n", m.Nick(), m.Param(0))
	}
	return false
}
