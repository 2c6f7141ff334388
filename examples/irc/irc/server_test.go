package irc

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The server's tests run it on a loopback port and talk to it with
// Clients of this package, or with raw lines where a client of its own
// would refuse to misbehave.

// startServer serves s on a loopback port until the test ends, when Serve
// must return ErrServerClosed.
func startServer(t *testing.T, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	t.Cleanup(func() {
		s.Close()
		if err := <-served; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve = %v, want ErrServerClosed", err)
		}
	})
	return ln.Addr().String()
}

// connect registers a Client as nick.
func connect(t *testing.T, ctx context.Context, addr, nick string) *Client {
	t.Helper()
	c := dial(t, addr)
	if err := c.Register(ctx, Identity{Nick: nick, RealName: "The " + nick}); err != nil {
		t.Fatalf("registering %s: %v", nick, err)
	}
	return c
}

func dial(t *testing.T, addr string) *Client {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return NewClient(conn)
}

// raw sends line as it is, past the checks of Conn.
func raw(t *testing.T, c *Client, line string) {
	t.Helper()
	if _, err := io.WriteString(c.Conn().NetConn(), line+"\r\n"); err != nil {
		t.Fatal(err)
	}
}

// heard returns the next message from another user, as "nick COMMAND
// params", skipping what the server says itself.
func heard(t *testing.T, ctx context.Context, c *Client) string {
	t.Helper()
	for {
		m, err := c.Next(ctx)
		if err != nil {
			t.Fatalf("%s waiting for a message: %v", c.Nick(), err)
		}
		if strings.Contains(m.Source, "!") {
			return m.Nick() + " " + m.Command + " " + strings.Join(m.Params, " ")
		}
	}
}

func hear(t *testing.T, ctx context.Context, c *Client, want string) {
	t.Helper()
	if got := heard(t, ctx, c); got != want {
		t.Errorf("%s heard %q, want %q", c.Nick(), got, want)
	}
}

// reply returns the next message with the command (a numeric, usually),
// and fails on an error reply before it.
func reply(t *testing.T, ctx context.Context, c *Client, command string) Message {
	t.Helper()
	for {
		m, err := c.Next(ctx)
		if err != nil {
			t.Fatalf("waiting for %s: %v", command, err)
		}
		if m.Command == command {
			return m
		}
		if isError(m.Command) && m.Command != ErrNoMotd { // 422 ends the welcome
			t.Fatalf("waiting for %s, got %q", command, m)
		}
	}
}

func join(t *testing.T, ctx context.Context, c *Client, channel string) {
	t.Helper()
	if err := c.Join(ctx, channel); err != nil {
		t.Fatalf("%s joining %s: %v", c.Nick(), channel, err)
	}
}

func say(t *testing.T, ctx context.Context, c *Client, target, text string) {
	t.Helper()
	if err := c.Privmsg(ctx, target, text); err != nil {
		t.Fatal(err)
	}
}

// A day on the server: channels, private messages, topics, a new
// nickname, parting and quitting, each seen by whom it concerns.
func TestServerTalk(t *testing.T) {
	ctx := testContext(t)
	addr := startServer(t, &Server{Name: "irc.test"})
	alice := connect(t, ctx, addr, "alice")
	bob := connect(t, ctx, addr, "bob")
	if m := reply(t, ctx, alice, RplYourHost); m.Source != "irc.test" {
		t.Errorf("the server's replies come from %q", m.Source)
	}

	join(t, ctx, alice, "#WasmNet")
	join(t, ctx, bob, "#wasmnet") // the same channel: case folds
	if names := reply(t, ctx, bob, RplNamReply); names.String() != ":irc.test 353 bob = #WasmNet :alice bob" {
		t.Errorf("bob's names: %q", names)
	}
	hear(t, ctx, alice, "bob JOIN #WasmNet")

	say(t, ctx, alice, "#wasmnet", "hello, bob")
	hear(t, ctx, bob, "alice PRIVMSG #WasmNet hello, bob")
	say(t, ctx, bob, "ALICE", "hello, alice")
	hear(t, ctx, alice, "bob PRIVMSG alice hello, alice")
	if err := bob.Conn().WriteMessage(ctx, Message{Command: "NOTICE", Params: []string{"#wasmnet", "noted"}}); err != nil {
		t.Fatal(err)
	}
	hear(t, ctx, alice, "bob NOTICE #WasmNet noted")

	// A topic, which a newcomer is told.
	raw(t, bob, "TOPIC #wasmnet :all about wasm")
	hear(t, ctx, alice, "bob TOPIC #WasmNet all about wasm")
	hear(t, ctx, bob, "bob TOPIC #WasmNet all about wasm")
	carol := connect(t, ctx, addr, "carol")
	join(t, ctx, carol, "#wasmnet")
	if m := reply(t, ctx, carol, RplTopic); m.Trailing() != "all about wasm" {
		t.Errorf("carol was told the topic %q", m)
	}
	if m := reply(t, ctx, carol, RplNamReply); m.Trailing() != "alice bob carol" {
		t.Errorf("carol's names: %q", m)
	}
	hear(t, ctx, alice, "carol JOIN #WasmNet")
	hear(t, ctx, bob, "carol JOIN #WasmNet")

	// A new nickname, seen once by whom shares any channel.
	join(t, ctx, alice, "#two")
	join(t, ctx, bob, "#two")
	hear(t, ctx, alice, "bob JOIN #two")
	raw(t, alice, "NICK Alicia")
	hear(t, ctx, alice, "alice NICK Alicia")
	hear(t, ctx, bob, "alice NICK Alicia")
	hear(t, ctx, carol, "alice NICK Alicia")
	say(t, ctx, carol, "alicia", "new name?")
	hear(t, ctx, alice, "carol PRIVMSG Alicia new name?")
	say(t, ctx, carol, "alice", "old name?")
	if m := reply(t, ctx, carol, ErrNoSuchNick); m.Param(1) != "alice" {
		t.Errorf("to the old name: %q", m)
	}

	// Parting and quitting.
	raw(t, bob, "PART #wasmnet :see you")
	hear(t, ctx, alice, "bob PART #WasmNet see you")
	hear(t, ctx, carol, "bob PART #WasmNet see you")
	hear(t, ctx, bob, "bob PART #WasmNet see you")
	if err := carol.Quit(ctx, "later"); err != nil {
		t.Fatal(err)
	}
	hear(t, ctx, alice, "carol QUIT Quit: later")
	// bob shares no channel with carol now: what he hears next is this.
	say(t, ctx, alice, "#two", "just us")
	hear(t, ctx, bob, "Alicia PRIVMSG #two just us")
}

// Nicknames fold as RFC 1459 says, are taken from the first NICK, and
// must be words of the right characters.
func TestServerNicknames(t *testing.T) {
	ctx := testContext(t)
	addr := startServer(t, &Server{})
	connect(t, ctx, addr, "al[1]")

	c := dial(t, addr)
	var e *Error
	if err := c.Register(ctx, Identity{Nick: "AL{1}"}); !errors.As(err, &e) || e.Command != ErrNicknameInUse {
		t.Fatalf("Register as AL{1} with al[1] there = %v, want 433", err)
	}
	for _, bad := range []string{"1al", "-al", "al:x", "al.x", "ä", strings.Repeat("a", 31)} {
		raw(t, c, "NICK "+bad)
		if m := reply(t, ctx, c, ErrErroneusNickname); m.Param(1) != bad {
			t.Errorf("432 for %q names %q", bad, m.Param(1))
		}
	}
	// The registration goes on after the refusals: USER was sent.
	raw(t, c, "NICK bob")
	if m := reply(t, ctx, c, RplWelcome); m.Param(0) != "bob" {
		t.Errorf("welcomed %q", m)
	}

	// A nickname is held from the first NICK, before registration ends.
	early := dial(t, addr)
	raw(t, early, "NICK carol")
	raw(t, early, "PING wait") // its PONG means the NICK was handled
	reply(t, ctx, early, "PONG")
	if err := dial(t, addr).Register(ctx, Identity{Nick: "Carol"}); !errors.As(err, &e) || e.Command != ErrNicknameInUse {
		t.Fatalf("Register as Carol while carol registers = %v, want 433", err)
	}
	raw(t, c, "NICK carol")
	if m := reply(t, ctx, c, ErrNicknameInUse); m.Param(0) != "bob" || m.Param(1) != "carol" {
		t.Errorf("bob renaming to carol: %q", m)
	}
}

// Each mistake gets its numeric, and the session goes on.
func TestServerErrors(t *testing.T) {
	ctx := testContext(t)
	addr := startServer(t, &Server{Name: "irc.test"})
	alice := connect(t, ctx, addr, "alice")
	join(t, ctx, alice, "#a")
	bob := connect(t, ctx, addr, "bob")
	reply(t, ctx, bob, ErrNoMotd) // the end of the welcome
	for _, tt := range []struct{ line, want string }{
		{"PRIVMSG nobody :hi", ":irc.test 401 bob nobody :No such nick/channel"},
		{"PRIVMSG #nowhere :hi", ":irc.test 403 bob #nowhere :No such channel"},
		{"PRIVMSG #A :hi", ":irc.test 404 bob #a :Cannot send to channel"},
		{"PRIVMSG", ":irc.test 411 bob :No recipient given (PRIVMSG)"},
		{"PRIVMSG alice", ":irc.test 412 bob :No text to send"},
		{"PRIVMSG a,b,c,d,e :hi", ":irc.test 407 bob a,b,c,d,e :Too many recipients"},
		{"PART #a", ":irc.test 442 bob #a :You're not on that channel"},
		{"PART #none", ":irc.test 403 bob #none :No such channel"},
		{"JOIN nohash", ":irc.test 403 bob nohash :No such channel"},
		{"JOIN", ":irc.test 461 bob JOIN :Not enough parameters"},
		{"TOPIC #a :mine", ":irc.test 442 bob #a :You're not on that channel"},
		{"TOPIC #a", ":irc.test 331 bob #a :No topic is set"},
		{"USER b 0 * :B", ":irc.test 462 bob :You may not reregister"},
		{"FROB x", ":irc.test 421 bob FROB :Unknown command"},
		{"CAP LS 302", ":irc.test 421 bob CAP :Unknown command"},
		{"PING", ":irc.test 409 bob :No origin specified"},
		{"PING :some token", ":irc.test PONG irc.test :some token"},
		{"MODE #a", ":irc.test 324 bob #a +n"},
		{"MODE #a b", ":irc.test 368 bob #a :End of channel ban list"},
		{"MODE #a +o bob", ":irc.test 482 bob #a :You're not channel operator"},
		{"MODE bob", ":irc.test 221 bob +"},
		{"MODE bob +i", ":bob MODE bob +i"},
		{"MODE bob +x", ":irc.test 501 bob :Unknown MODE flag"},
		{"MODE alice -i", ":irc.test 502 bob :Can't change mode for other users"},
		{"WHO #a", ":irc.test 352 bob #a ~alice 127.0.0.1 irc.test alice H :0 The alice"},
		{"WHOIS ALICE", ":irc.test 311 bob alice ~alice 127.0.0.1 * :The alice"},
		{"WHOIS nobody", ":irc.test 401 bob nobody :No such nick/channel"},
		{"MOTD", ":irc.test 422 bob :MOTD File is missing"},
		// No error ever answers a NOTICE: the PONG comes first.
		{"NOTICE nobody :hi\r\nNOTICE #a :hi\r\nPING sync", ":irc.test PONG irc.test sync"},
	} {
		raw(t, bob, tt.line)
		m, err := bob.Next(ctx)
		if err != nil {
			t.Fatalf("after %q: %v", tt.line, err)
		}
		if m.String() != tt.want {
			t.Errorf("%q: got %q, want %q", tt.line, m, tt.want)
		}
		// Whatever else answers the line, up to its end.
		switch m.Command {
		case RplChannelModeIs:
			reply(t, ctx, bob, RplCreationTime)
		case RplWhoReply:
			reply(t, ctx, bob, RplEndOfWho)
		case RplWhoisUser:
			if m := reply(t, ctx, bob, RplWhoisChannels); m.Trailing() != "#a" {
				t.Errorf("alice is on %q", m.Trailing())
			}
			reply(t, ctx, bob, RplEndOfWhois)
		case ErrNoSuchNick:
			if strings.HasPrefix(tt.line, "WHOIS") {
				reply(t, ctx, bob, RplEndOfWhois)
			}
		}
	}

	// Before registration, only registering is allowed.
	c := dial(t, addr)
	raw(t, c, "JOIN #a")
	if m := reply(t, ctx, c, ErrNotRegistered); m.String() != ":irc.test 451 * :You have not registered" {
		t.Errorf("got %q", m)
	}
}

// A line over 512 bytes is answered with 417, and the session goes on;
// so is a message that would grow over 512 bytes when relayed with its
// source. Nobody receives either.
func TestServerLineTooLong(t *testing.T) {
	ctx := testContext(t)
	addr := startServer(t, &Server{})
	alice := connect(t, ctx, addr, "alice")
	bob := connect(t, ctx, addr, "bob")
	join(t, ctx, alice, "#c")
	join(t, ctx, bob, "#c")

	for _, n := range []int{600, 20000} {
		raw(t, alice, "PRIVMSG #c :"+strings.Repeat("x", n))
		reply(t, ctx, alice, ErrInputTooLong)
	}
	// 510 bytes from alice, and her source on top when relayed.
	long := Message{Command: "PRIVMSG", Params: []string{"#c", strings.Repeat("y", 510-len("PRIVMSG #c :"))}}
	if err := alice.Conn().WriteMessage(ctx, long); err != nil {
		t.Fatal(err)
	}
	reply(t, ctx, alice, ErrInputTooLong)
	say(t, ctx, alice, "#c", "short")
	hear(t, ctx, bob, "alice PRIVMSG #c short")
}

// A client that stops answering is pinged, then dropped, and the channel
// hears it quit; a connection that never registers is dropped too. A
// client that answers its PINGs stays.
func TestServerDeadClient(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Pings come soon; the answer has 3s, which alice, who answers at
	// once, must not miss on a busy machine.
	addr := startServer(t, &Server{PingInterval: 50 * time.Millisecond, PingTimeout: 3 * time.Second})
	alice := connect(t, ctx, addr, "alice")
	join(t, ctx, alice, "#c")
	// alice reads all along, so that she answers every PING in time.
	heardByAlice := make(chan string, 10)
	go func() {
		defer close(heardByAlice)
		for {
			m, err := alice.Next(ctx)
			if err != nil {
				return
			}
			if strings.Contains(m.Source, "!") || m.Command == "PONG" {
				heardByAlice <- m.Nick() + " " + m.Command + " " + strings.Join(m.Params, " ")
			}
		}
	}()
	aliceHears := func(want string) {
		t.Helper()
		if got := <-heardByAlice; got != want {
			t.Fatalf("alice heard %q, want %q", got, want)
		}
	}

	mute, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer mute.Close()
	io.WriteString(mute, "NICK mute\r\n")
	dead, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	io.WriteString(dead, "NICK dead\r\nUSER dead 0 * :Dead\r\nJOIN #c\r\n")
	aliceHears("dead JOIN #c")
	aliceHears("dead QUIT Ping timeout: 3s")

	lines := readAll(t, dead)
	if !strings.Contains(lines, "\nPING :irc.wasmnet\r\n") || !strings.HasSuffix(lines, "\nERROR :Closing Link: 127.0.0.1 (Ping timeout: 3s)\r\n") {
		t.Errorf("the dead client was sent:\n%s", lines)
	}
	if lines := readAll(t, mute); lines != "ERROR :Closing Link: 127.0.0.1 (Registration timeout)\r\n" {
		t.Errorf("the unregistered client was sent:\n%s", lines)
	}
	// alice is still there.
	raw(t, alice, "PING still-here")
	aliceHears("irc.wasmnet PONG irc.wasmnet still-here")
}

// readAll reads what the server sends until it closes the connection.
func readAll(t *testing.T, c net.Conn) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(time.Minute)) // a guard against hanging
	b, err := io.ReadAll(c)
	if err != nil {
		t.Errorf("reading until the server closes: %v", err)
	}
	return string(b)
}

// A client that reads nothing cannot hold up the others: once what waits
// for it overflows, it is dropped, and the rest talk on.
func TestServerSlowClient(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	addr := startServer(t, &Server{})
	talker := connect(t, ctx, addr, "talker")
	watcher := connect(t, ctx, addr, "watcher")
	join(t, ctx, talker, "#c")
	join(t, ctx, watcher, "#c")

	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	slow.(*net.TCPConn).SetReadBuffer(4096)
	io.WriteString(slow, "NICK slow\r\nUSER slow 0 * :Slow\r\nJOIN #c\r\n")
	hear(t, ctx, watcher, "slow JOIN #c")

	// talker talks in batches of 100 until watcher hears slow go.
	// watcher reads each batch before the next, so that it never falls
	// behind itself.
	seen, gone := make(chan bool), make(chan string, 1)
	go func() {
		for {
			m, err := watcher.Next(ctx)
			switch {
			case err != nil:
				gone <- err.Error()
				return
			case m.Command == "QUIT":
				gone <- m.Nick() + " " + m.Trailing()
				return
			case m.Command == "PRIVMSG" && m.Trailing() == "end of batch":
				seen <- true
			}
		}
	}()
	long := strings.Repeat("z", 400)
	quit := ""
	for batch := 0; quit == "" && batch < 10000; batch++ {
		for i := range 100 {
			text := long
			if i == 99 {
				text = "end of batch"
			}
			if err := talker.Conn().WriteMessage(ctx, Message{Command: "PRIVMSG", Params: []string{"#c", text}}); err != nil {
				t.Fatal(err)
			}
		}
		select {
		case <-seen:
		case quit = <-gone:
		}
	}
	if quit != "slow SendQ exceeded" {
		t.Errorf("watcher heard %q, want slow's quit", quit)
	}
	say(t, ctx, talker, "#c", "still talking")
	for {
		got := heard(t, ctx, watcher)
		if got == "talker PRIVMSG #c still talking" {
			break
		}
		if got != "talker PRIVMSG #c "+long && got != "talker PRIVMSG #c end of batch" {
			t.Fatalf("watcher heard %q", got)
		}
	}
}

// With a password, PASS must give it.
func TestServerPassword(t *testing.T) {
	ctx := testContext(t)
	addr := startServer(t, &Server{Password: "sesame"})
	for _, pass := range []string{"", "open"} {
		c := dial(t, addr)
		var e *Error
		if err := c.Register(ctx, Identity{Nick: "eve", Password: pass}); !errors.As(err, &e) || e.Command != ErrPasswdMismatch {
			t.Errorf("Register with password %q = %v, want 464", pass, err)
		}
		if _, err := c.Next(ctx); err == nil || !strings.Contains(err.Error(), "Bad password") {
			t.Errorf("after 464: %v, want ERROR", err)
		}
	}
	c := dial(t, addr)
	if err := c.Register(ctx, Identity{Nick: "eve", Password: "sesame"}); err != nil {
		t.Fatal(err)
	}
}

// Shutdown says goodbye to everyone and waits for them to be gone;
// Serve then returns ErrServerClosed, now and later.
func TestServerShutdown(t *testing.T) {
	ctx := testContext(t)
	s := &Server{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	alice := connect(t, ctx, ln.Addr().String(), "alice")
	bob := connect(t, ctx, ln.Addr().String(), "bob")
	join(t, ctx, alice, "#c")
	join(t, ctx, bob, "#c")

	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
	if err := <-served; !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve = %v, want ErrServerClosed", err)
	}
	for _, c := range []*Client{alice, bob} {
		// Nobody hears the others quit: the server goes as a whole.
		err := drain(c)
		var e *Error
		if !errors.As(err, &e) || e.Command != "ERROR" || !strings.HasSuffix(e.Trailing(), "(Server shutting down)") {
			t.Errorf("%s: %v, want ERROR", c.Nick(), err)
		}
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Error("the listener still accepts")
	}
	ln2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(ln2); !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve after Shutdown = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close after Shutdown = %v", err)
	}
}

// Shutdown with a context that has ended closes what is left at once.
func TestServerShutdownContext(t *testing.T) {
	ctx := testContext(t)
	s := &Server{}
	addr := startServer(t, s)
	alice := connect(t, ctx, addr, "alice")
	done, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Shutdown(done); err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("Shutdown = %v", err)
	}
	// Whether or not the goodbye made it, the connection is closed.
	if err := drain(alice); err == nil {
		t.Error("the connection is still open")
	}
}

// drain reads from c until the connection ends, and returns how.
func drain(c *Client) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a guard against hanging
	defer cancel()
	for {
		if _, err := c.Next(ctx); err != nil {
			return err
		}
	}
}

// Close drops everyone without a word.
func TestServerClose(t *testing.T) {
	ctx := testContext(t)
	s := &Server{}
	addr := startServer(t, s)
	alice := connect(t, ctx, addr, "alice")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := drain(alice); !errors.Is(err, io.EOF) {
		t.Errorf("Next after Close = %v, want EOF", err)
	}
}

// What the server relays with a reason or a topic is cut to one line, at
// a character's start.
func TestFit(t *testing.T) {
	m := fit(Message{Source: "nick!~user@10.0.0.1", Command: "QUIT", Params: []string{strings.Repeat("ü", 400)}})
	line := m.String()
	if err := m.Check(); err != nil || len(line)+2 < MaxLine-1 || // no more than half a ü lost
		!utf8.ValidString(line) {
		t.Errorf("fit made a %d-byte line (%v): %q", len(line)+2, err, line)
	}
	short := Message{Command: "PART", Params: []string{"#c", "bye"}}
	if got := fit(short).String(); got != "PART #c :bye" {
		t.Errorf("fit(%q) = %q", short, got)
	}
}
