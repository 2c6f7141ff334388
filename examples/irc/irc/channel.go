package irc

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

const (
	chanLimit  = 20 // channels a user may be on at once
	channelLen = 50
	topicLen   = 390
)

// A channel exists while it has members. Every member may talk in it and
// set its topic; there are no operators, and no messages from outside
// (mode +n).
type channel struct {
	name    string // as its first member spelled it
	created time.Time
	topic   string
	topicBy string
	topicAt time.Time
	members map[*user]bool
}

// join puts u in each of the comma-separated channels, creating those
// that do not exist. "JOIN 0" leaves every channel (RFC 2812). Keys are
// ignored: no channel has one.
func (s *Server) join(u *user, m Message) {
	if m.Params[0] == "0" {
		for _, ch := range u.channels {
			s.part(u, Message{Command: "PART", Params: []string{ch.name}})
		}
		return
	}
	for _, name := range strings.Split(m.Params[0], ",") {
		ch := s.channels[Fold(name)]
		switch {
		case name == "":
		case !validChannel(name):
			s.reply(u, ErrNoSuchChannel, name, "No such channel")
		case ch != nil && ch.members[u]:
		case len(u.channels) >= chanLimit:
			s.reply(u, ErrTooManyChannels, name, "You have joined too many channels")
		default:
			if ch == nil {
				ch = &channel{name: name, created: time.Now(), members: map[*user]bool{}}
				s.channels[Fold(name)] = ch
			}
			ch.members[u] = true
			u.channels[Fold(name)] = ch
			s.logf("%s joined %s", u.nick, ch.name)
			s.toChannel(ch, nil, Message{Source: u.source(), Command: "JOIN", Params: []string{ch.name}})
			if ch.topic != "" {
				s.topicReply(u, ch)
			}
			s.names(u, ch)
		}
	}
}

// part takes u out of each of the comma-separated channels; the members,
// u among them, see it PART.
func (s *Server) part(u *user, m Message) {
	for _, name := range strings.Split(m.Params[0], ",") {
		ch := s.channels[Fold(name)]
		switch {
		case name == "":
		case ch == nil:
			s.reply(u, ErrNoSuchChannel, name, "No such channel")
		case !ch.members[u]:
			s.reply(u, ErrNotOnChannel, ch.name, "You're not on that channel")
		default:
			parted := Message{Source: u.source(), Command: "PART", Params: []string{ch.name}}
			if reason := m.Param(1); reason != "" {
				parted.Params = append(parted.Params, reason)
			}
			s.logf("%s left %s", u.nick, ch.name)
			s.toChannel(ch, nil, fit(parted))
			s.leave(u, ch)
		}
	}
}

// leave takes u out of ch, and the channel away when it empties.
func (s *Server) leave(u *user, ch *channel) {
	delete(ch.members, u)
	delete(u.channels, Fold(ch.name))
	if len(ch.members) == 0 {
		delete(s.channels, Fold(ch.name))
	}
}

// topic shows a channel's topic, or sets it: any member may.
func (s *Server) topic(u *user, m Message) {
	ch := s.channels[Fold(m.Params[0])]
	switch {
	case ch == nil:
		s.reply(u, ErrNoSuchChannel, m.Params[0], "No such channel")
	case len(m.Params) == 1:
		if ch.topic == "" {
			s.reply(u, RplNoTopic, ch.name, "No topic is set")
			return
		}
		s.topicReply(u, ch)
	case !ch.members[u]:
		s.reply(u, ErrNotOnChannel, ch.name, "You're not on that channel")
	default:
		ch.topic = cut(m.Params[1], topicLen)
		ch.topicBy, ch.topicAt = u.nick, time.Now()
		s.logf("%s set the topic of %s: %s", u.nick, ch.name, ch.topic)
		s.toChannel(ch, nil, fit(Message{Source: u.source(), Command: "TOPIC", Params: []string{ch.name, ch.topic}}))
	}
}

func (s *Server) topicReply(u *user, ch *channel) {
	s.reply(u, RplTopic, ch.name, ch.topic)
	s.reply(u, RplTopicWhoTime, ch.name, ch.topicBy, strconv.FormatInt(ch.topicAt.Unix(), 10))
}

// namesCmd lists the members of each channel named, or of every channel.
func (s *Server) namesCmd(u *user, m Message) {
	if len(m.Params) == 0 {
		for _, key := range slices.Sorted(maps.Keys(s.channels)) {
			s.names(u, s.channels[key])
		}
		s.reply(u, RplEndOfNames, "*", "End of NAMES list")
		return
	}
	for _, name := range strings.Split(m.Params[0], ",") {
		if ch := s.channels[Fold(name)]; ch != nil {
			s.names(u, ch)
		} else if name != "" {
			s.reply(u, RplEndOfNames, name, "End of NAMES list")
		}
	}
}

// names sends u the members of ch, in as few lines as fit, then the end.
func (s *Server) names(u *user, ch *channel) {
	var nicks []string
	for v := range ch.members {
		nicks = append(nicks, v.nick)
	}
	slices.SortFunc(nicks, func(a, b string) int { return strings.Compare(Fold(a), Fold(b)) })
	line := Message{Source: s.name(), Command: RplNamReply, Params: []string{u.nick, "=", ch.name, ""}, Colon: true}
	room := MaxLine - 2 - len(line.String())
	for len(nicks) > 0 {
		n, size := 1, len(nicks[0])
		for n < len(nicks) && size+1+len(nicks[n]) <= room {
			size += 1 + len(nicks[n])
			n++
		}
		line.Params[3] = strings.Join(nicks[:n], " ")
		s.send(u, line)
		nicks = nicks[n:]
	}
	s.reply(u, RplEndOfNames, ch.name, "End of NAMES list")
}

// list shows every channel, its size and its topic.
func (s *Server) list(u *user, _ Message) {
	s.reply(u, RplListStart, "Channel", "Users  Name")
	for _, key := range slices.Sorted(maps.Keys(s.channels)) {
		ch := s.channels[key]
		s.reply(u, RplList, ch.name, strconv.Itoa(len(ch.members)), ch.topic)
	}
	s.reply(u, RplListEnd, "End of LIST")
}

// toChannel sends m to the members of ch but except.
func (s *Server) toChannel(ch *channel, except *user, m Message) {
	for v := range ch.members {
		if v != except {
			s.send(v, m)
		}
	}
}

// validChannel tells whether name can be a channel: '#' and up to
// channelLen bytes in all, without space, comma, colon or BEL (RFC 2812,
// section 1.3).
func validChannel(name string) bool {
	return len(name) > 1 && len(name) <= channelLen && name[0] == '#' &&
		!strings.ContainsAny(name, " ,:\x07")
}

// fit cuts m's last parameter, a reason or a topic, so that m fits in one
// line.
func fit(m Message) Message {
	m.Colon = true // as send will write it
	over := len(m.String()) + 2 - MaxLine
	if over <= 0 || len(m.Params) == 0 {
		return m
	}
	m.Params = slices.Clone(m.Params)
	last := &m.Params[len(m.Params)-1]
	*last = cut(*last, len(*last)-over)
	return m
}

// cut shortens s to at most n bytes, at the start of a UTF-8 sequence.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	n = max(n, 0)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
