package irc

import (
	"errors"
	"fmt"
	"strings"
)

// MaxLine is the longest line RFC 1459 allows, CR LF included. Tags
// (IRCv3) come on top of it.
const MaxLine = 512

// A Message is one line of IRC: an optional source, a command (a word
// such as PRIVMSG or a three-digit numeric reply), and its parameters.
type Message struct {
	Tags    map[string]string // IRCv3 message tags, if any
	Source  string            // "nick!user@host" or a server name; empty from a client
	Command string
	Params  []string
	// Colon makes String write the last parameter after a colon even
	// when it needs none, as servers commonly do: some clients take only
	// what follows a colon as a message's text. Parse leaves it false.
	Colon bool
}

// Nick is the nickname in the message's source, or the whole source when
// it came from a server.
func (m Message) Nick() string {
	nick, _, _ := strings.Cut(m.Source, "!")
	nick, _, _ = strings.Cut(nick, "@")
	return nick
}

// Param is the i-th parameter, or "" if there is none.
func (m Message) Param(i int) string {
	if i < len(m.Params) {
		return m.Params[i]
	}
	return ""
}

// Trailing is the last parameter, or "" if there is none.
func (m Message) Trailing() string {
	if len(m.Params) == 0 {
		return ""
	}
	return m.Params[len(m.Params)-1]
}

// ErrMalformed reports a line that is not an IRC message.
var ErrMalformed = errors.New("irc: malformed message")

// ErrLineTooLong reports a line over MaxLine bytes, tags aside, read or
// about to be written.
var ErrLineTooLong = errors.New("irc: line too long")

// Parse parses a line without its CR LF.
func Parse(line string) (Message, error) {
	var m Message
	if strings.HasPrefix(line, "@") {
		tags, rest, ok := strings.Cut(line[1:], " ")
		if !ok {
			return m, ErrMalformed
		}
		m.Tags = parseTags(tags)
		line = strings.TrimLeft(rest, " ")
	}
	if strings.HasPrefix(line, ":") {
		src, rest, ok := strings.Cut(line[1:], " ")
		if !ok || src == "" {
			return m, ErrMalformed
		}
		m.Source = src
		line = strings.TrimLeft(rest, " ")
	}
	cmd, rest, _ := strings.Cut(line, " ")
	if !isCommand(cmd) {
		return m, ErrMalformed
	}
	m.Command = strings.ToUpper(cmd)
	for rest != "" {
		rest = strings.TrimLeft(rest, " ")
		if rest == "" {
			break
		}
		if rest[0] == ':' {
			m.Params = append(m.Params, rest[1:])
			break
		}
		var p string
		p, rest, _ = strings.Cut(rest, " ")
		m.Params = append(m.Params, p)
	}
	return m, nil
}

// String formats the message as a line without CR LF. The last parameter
// gets a colon when it needs one (when it is empty, has a space or starts
// with a colon) or when m.Colon asks for one.
func (m Message) String() string {
	var b strings.Builder
	if len(m.Tags) > 0 {
		b.WriteByte('@')
		b.WriteString(formatTags(m.Tags))
		b.WriteByte(' ')
	}
	if m.Source != "" {
		b.WriteByte(':')
		b.WriteString(m.Source)
		b.WriteByte(' ')
	}
	b.WriteString(m.Command)
	for i, p := range m.Params {
		b.WriteByte(' ')
		if i == len(m.Params)-1 && (m.Colon || p == "" || strings.ContainsRune(p, ' ') || p[0] == ':') {
			b.WriteByte(':')
		}
		b.WriteString(p)
	}
	return b.String()
}

// isCommand tells whether s is a command: letters, or a three-digit
// numeric (RFC 2812, section 2.3.1).
func isCommand(s string) bool {
	if len(s) == 3 && strings.Trim(s, "0123456789") == "" {
		return true
	}
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return s != ""
}

// Check reports whether m can be sent as one line: an error wrapping
// ErrLineTooLong if it is over MaxLine bytes (tags aside), or another
// error if its command, source or parameters cannot be written as given.
func (m Message) Check() error {
	if err := m.validate(); err != nil {
		return err
	}
	if n := len(m.String()) + 2 - tagsLen(m); n > MaxLine {
		return fmt.Errorf("%w: %s is %d bytes, over the %d IRC allows", ErrLineTooLong, m.Command, n, MaxLine)
	}
	return nil
}

func tagsLen(m Message) int {
	if len(m.Tags) == 0 {
		return 0
	}
	return len(formatTags(m.Tags)) + 2
}

// validate checks that m can be sent as one line: only the last
// parameter may be empty, hold spaces or start with a colon, and nothing
// may hold CR, LF or NUL.
func (m Message) validate() error {
	if m.Command == "" || strings.ContainsAny(m.Command, " \r\n\x00:") {
		return errors.New("irc: invalid command " + quote(m.Command))
	}
	if strings.ContainsAny(m.Source, " \r\n\x00") {
		return errors.New("irc: invalid source " + quote(m.Source))
	}
	for i, p := range m.Params {
		if strings.ContainsAny(p, "\r\n\x00") {
			return errors.New("irc: a parameter holds CR, LF or NUL")
		}
		last := i == len(m.Params)-1
		if !last && (p == "" || strings.ContainsRune(p, ' ') || p[0] == ':') {
			return errors.New("irc: only the last parameter may be empty, hold a space or start with ':'")
		}
	}
	return nil
}

func quote(s string) string { return "\"" + s + "\"" }
