package irc

import (
	"cmp"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// maxTargets is how many comma-separated targets a PRIVMSG or NOTICE may
// have.
const maxTargets = 4

// A command is how the server handles one kind of message.
type command struct {
	params int  // parameters it needs, or ErrNeedMoreParams
	early  bool // allowed before registration
	run    func(*Server, *user, Message)
}

// commands are the commands the server knows; anything else is answered
// with ErrUnknownCommand (CAP among them, which tells IRCv3 clients that
// there are no capabilities to negotiate).
var commands = map[string]command{
	"PASS":    {1, true, (*Server).pass},
	"NICK":    {0, true, (*Server).nick},
	"USER":    {4, true, (*Server).user},
	"PING":    {0, true, (*Server).ping},
	"PONG":    {0, true, func(*Server, *user, Message) {}}, // any line counts as an answer
	"QUIT":    {0, true, (*Server).quitCmd},
	"JOIN":    {1, false, (*Server).join},
	"PART":    {1, false, (*Server).part},
	"PRIVMSG": {0, false, (*Server).privmsg},
	"NOTICE":  {0, false, (*Server).privmsg},
	"TOPIC":   {1, false, (*Server).topic},
	"NAMES":   {0, false, (*Server).namesCmd},
	"LIST":    {0, false, (*Server).list},
	"WHO":     {0, false, (*Server).who},
	"WHOIS":   {0, false, (*Server).whois},
	"MODE":    {1, false, (*Server).mode},
	"MOTD":    {0, false, (*Server).motd},
}

// handle runs one command from u and tells whether u has gone.
func (s *Server) handle(u *user, m Message) (gone bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.gone {
		return true
	}
	c, ok := commands[m.Command]
	switch {
	case !ok:
		s.reply(u, ErrUnknownCommand, m.Command, "Unknown command")
	case !u.registered && !c.early:
		s.reply(u, ErrNotRegistered, "You have not registered")
	case len(m.Params) < c.params:
		s.reply(u, ErrNeedMoreParams, m.Command, "Not enough parameters")
	default:
		c.run(s, u, m)
	}
	return u.gone
}

// privmsg relays PRIVMSG and NOTICE to channels and users. A NOTICE gets
// no error reply: RFC 2812 (section 3.3.2) forbids servers that too, so
// that two programs can never answer each other's errors forever.
func (s *Server) privmsg(u *user, m Message) {
	fail := func(code string, params ...string) {
		if m.Command == "PRIVMSG" {
			s.reply(u, code, params...)
		}
	}
	targets := strings.Split(m.Param(0), ",")
	switch {
	case m.Param(0) == "":
		fail(ErrNoRecipient, "No recipient given ("+m.Command+")")
		return
	case len(m.Params) < 2 || m.Params[1] == "":
		fail(ErrNoTextToSend, "No text to send")
		return
	case len(targets) > maxTargets:
		fail(ErrTooManyTargets, m.Params[0], "Too many recipients")
		return
	}
	text := m.Params[1]
	for _, t := range targets {
		if t == "" {
			continue
		}
		out := Message{Source: u.source(), Command: m.Command, Params: []string{t, text}, Colon: true}
		if strings.HasPrefix(t, "#") {
			ch := s.channels[Fold(t)]
			switch {
			case ch == nil:
				fail(ErrNoSuchChannel, t, "No such channel")
			case !ch.members[u]:
				fail(ErrCannotSendToChan, ch.name, "Cannot send to channel")
			case out.Check() != nil:
				// Room for the line from the client, not for its source.
				fail(ErrInputTooLong, "Input line was too long")
			default:
				if m.Command == "PRIVMSG" {
					s.logf("<%s:%s> %s", u.nick, ch.name, text)
				} else {
					s.logf("-%s:%s- %s", u.nick, ch.name, text)
				}
				out.Params[0] = ch.name
				s.toChannel(ch, u, out)
			}
			continue
		}
		v := s.nicks[Fold(t)]
		switch {
		case v == nil || !v.registered:
			fail(ErrNoSuchNick, t, "No such nick/channel")
		case out.Check() != nil:
			fail(ErrInputTooLong, "Input line was too long")
		default:
			s.logf("%s wrote to %s", u.nick, v.nick)
			out.Params[0] = v.nick
			s.send(v, out)
		}
	}
}

// ping answers a client's PING.
func (s *Server) ping(u *user, m Message) {
	if len(m.Params) == 0 {
		s.reply(u, ErrNoOrigin, "No origin specified")
		return
	}
	s.send(u, Message{Source: s.name(), Command: "PONG", Params: []string{s.name(), m.Params[0]}})
}

func (s *Server) quitCmd(u *user, m Message) {
	reason := "Quit"
	if r := m.Param(0); r != "" {
		reason = "Quit: " + r
	}
	s.quit(u, reason)
}

// who lists the members of a channel, or a user, with 352 replies.
func (s *Server) who(u *user, m Message) {
	mask := m.Param(0)
	reply := func(channel string, v *user) {
		s.reply(u, RplWhoReply, channel, "~"+v.name, v.host, s.name(), v.nick, "H", "0 "+v.realName)
	}
	if ch := s.channels[Fold(mask)]; ch != nil && strings.HasPrefix(mask, "#") {
		members := slices.Collect(maps.Keys(ch.members))
		slices.SortFunc(members, func(a, b *user) int { return strings.Compare(Fold(a.nick), Fold(b.nick)) })
		for _, v := range members {
			reply(ch.name, v)
		}
	} else if v := s.nicks[Fold(mask)]; v != nil && v.registered {
		reply("*", v)
	}
	s.reply(u, RplEndOfWho, cmp.Or(mask, "*"), "End of WHO list")
}

// whois tells who a user is and where: the last parameter names it, as
// "WHOIS server nick" asks the same as "WHOIS nick" here.
func (s *Server) whois(u *user, m Message) {
	if len(m.Params) == 0 || m.Trailing() == "" {
		s.reply(u, ErrNoNicknameGiven, "No nickname given")
		return
	}
	nick := m.Trailing()
	v := s.nicks[Fold(nick)]
	if v == nil || !v.registered {
		s.reply(u, ErrNoSuchNick, nick, "No such nick/channel")
		s.reply(u, RplEndOfWhois, nick, "End of WHOIS list")
		return
	}
	s.reply(u, RplWhoisUser, v.nick, "~"+v.name, v.host, "*", v.realName)
	var chans []string
	for _, ch := range v.channels {
		chans = append(chans, ch.name)
	}
	if len(chans) > 0 {
		slices.Sort(chans)
		s.reply(u, RplWhoisChannels, v.nick, strings.Join(chans, " "))
	}
	s.reply(u, RplWhoisServer, v.nick, s.name(), "wasmnet IRC server")
	s.reply(u, RplEndOfWhois, v.nick, "End of WHOIS list")
}

// mode answers what MODE asks of a channel or of u itself. Channels have
// mode +n, which nobody can change, as there are no operators; users have
// +i, which changes nothing, but clients ask for it.
func (s *Server) mode(u *user, m Message) {
	target := m.Params[0]
	if strings.HasPrefix(target, "#") {
		ch := s.channels[Fold(target)]
		switch {
		case ch == nil:
			s.reply(u, ErrNoSuchChannel, target, "No such channel")
		case len(m.Params) == 1:
			s.reply(u, RplChannelModeIs, ch.name, "+n")
			s.reply(u, RplCreationTime, ch.name, strconv.FormatInt(ch.created.Unix(), 10))
		case len(m.Params) == 2 && strings.TrimLeft(m.Params[1], "+") == "b":
			s.reply(u, RplEndOfBanList, ch.name, "End of channel ban list") // no bans
		default:
			s.reply(u, ErrChanOPrivsNeeded, ch.name, "You're not channel operator")
		}
		return
	}
	if Fold(target) != Fold(u.nick) {
		if v := s.nicks[Fold(target)]; v == nil || !v.registered {
			s.reply(u, ErrNoSuchNick, target, "No such nick/channel")
		} else {
			s.reply(u, ErrUsersDontMatch, "Can't change mode for other users")
		}
		return
	}
	if len(m.Params) == 1 {
		s.reply(u, RplUModeIs, u.umodes())
		return
	}
	was, on, unknown := u.invisible, true, false
	for _, c := range m.Params[1] {
		switch c {
		case '+', '-':
			on = c == '+'
		case 'i':
			u.invisible = on
		default:
			unknown = true
		}
	}
	if unknown {
		s.reply(u, ErrUModeUnknownFlag, "Unknown MODE flag")
	}
	if u.invisible != was {
		change := "-i"
		if u.invisible {
			change = "+i"
		}
		s.send(u, Message{Source: u.nick, Command: "MODE", Params: []string{u.nick, change}})
	}
}

func (u *user) umodes() string {
	if u.invisible {
		return "+i"
	}
	return "+"
}

// motd says there is no message of the day, which ends the welcome.
func (s *Server) motd(u *user, _ Message) {
	s.reply(u, ErrNoMotd, "MOTD File is missing")
}
