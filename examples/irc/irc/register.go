package irc

import (
	"crypto/subtle"
	"strconv"
	"strings"
	"time"
)

// Registration is PASS (if the server wants one), NICK and USER; once the
// last of NICK and USER is in, the user is welcomed.

const (
	version = "wasmnet-irc"
	nickLen = 30
	userLen = 16 // longer user names are cut
)

// pass takes the server password, which only counts before registration.
func (s *Server) pass(u *user, m Message) {
	if u.registered {
		s.reply(u, ErrAlreadyRegistered, "You may not reregister")
		return
	}
	u.pass = m.Params[0]
}

// nick sets u's nickname, or changes it, which everyone in u's channels
// sees. The nickname is taken at once, before registration ends, so that
// two clients registering at the same time cannot both have it.
func (s *Server) nick(u *user, m Message) {
	nick := m.Param(0)
	other := s.nicks[Fold(nick)]
	switch {
	case nick == "":
		s.reply(u, ErrNoNicknameGiven, "No nickname given")
	case !validNick(nick):
		s.reply(u, ErrErroneusNickname, nick, "Erroneous nickname")
	case other != nil && other != u:
		s.reply(u, ErrNicknameInUse, nick, "Nickname is already in use")
	case nick == u.nick:
	default:
		if u.nick != "" {
			delete(s.nicks, Fold(u.nick))
		}
		s.nicks[Fold(nick)] = u
		if !u.registered {
			u.nick = nick
			s.welcome(u)
			return
		}
		s.logf("%s is now %s", u.nick, nick)
		changed := Message{Source: u.source(), Command: "NICK", Params: []string{nick}}
		s.send(u, changed)
		s.toPeers(u, changed)
		u.nick = nick
	}
}

// user takes USER's user name and real name; the mode and the unused
// parameter mean nothing here.
func (s *Server) user(u *user, m Message) {
	if u.registered {
		s.reply(u, ErrAlreadyRegistered, "You may not reregister")
		return
	}
	// The user name goes into u's source, where '!' and '@' would
	// mislead whoever splits it.
	name := strings.Map(func(r rune) rune {
		if r == '!' || r == '@' || r < ' ' {
			return -1
		}
		return r
	}, m.Params[0])
	if len(name) > userLen {
		name = name[:userLen]
	}
	u.name, u.realName = name, m.Params[3]
	if u.name == "" {
		u.name = "user"
	}
	s.welcome(u)
}

// welcome registers u once it has a nickname and a user name, or drops it
// for a wrong password.
func (s *Server) welcome(u *user) {
	if u.registered || u.nick == "" || u.name == "" {
		return
	}
	if s.Password != "" && subtle.ConstantTimeCompare([]byte(u.pass), []byte(s.Password)) != 1 {
		s.reply(u, ErrPasswdMismatch, "Password incorrect")
		s.quit(u, "Bad password")
		return
	}
	u.registered, u.pass = true, ""
	s.logf("%s registered (%s)", u.nick, u.source())
	s.reply(u, RplWelcome, "Welcome to the "+s.network()+" IRC Network "+u.source())
	s.reply(u, RplYourHost, "Your host is "+s.name()+", running version "+version)
	s.reply(u, RplCreated, "This server was created "+s.created.UTC().Format(time.RFC1123))
	s.reply(u, RplMyInfo, s.name(), version, "i", "n")
	s.reply(u, RplISupport, "CASEMAPPING=rfc1459", "CHANTYPES=#", "PREFIX=", "CHANMODES=,,,n",
		"CHANLIMIT=#:"+strconv.Itoa(chanLimit), "NICKLEN="+strconv.Itoa(nickLen), "CHANNELLEN="+strconv.Itoa(channelLen),
		"TOPICLEN="+strconv.Itoa(topicLen), "TARGMAX=PRIVMSG:"+strconv.Itoa(maxTargets)+",NOTICE:"+strconv.Itoa(maxTargets),
		"NETWORK="+s.network(), "are supported by this server")
	s.motd(u, Message{})
}

// validNick tells whether nick is a nickname (RFC 2812, section 2.3.1): a
// letter or one of []\`_^{|} first, then those, digits and '-'.
func validNick(nick string) bool {
	if len(nick) > nickLen {
		return false
	}
	for i := 0; i < len(nick); i++ {
		c := nick[i]
		switch {
		case 'a' <= c|0x20 && c|0x20 <= 'z', strings.IndexByte("[]\\`_^{|}", c) >= 0:
		case i > 0 && ('0' <= c && c <= '9' || c == '-'):
		default:
			return false
		}
	}
	return nick != ""
}
