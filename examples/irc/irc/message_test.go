package irc

import (
	"reflect"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		line string
		want Message
	}{
		{"PING :irc.example", Message{Command: "PING", Params: []string{"irc.example"}}},
		{":irc.example 001 wasm :Welcome to the Internet Relay Network wasm!~wasm@localhost",
			Message{Source: "irc.example", Command: "001", Params: []string{"wasm", "Welcome to the Internet Relay Network wasm!~wasm@localhost"}}},
		{":bob!~bob@127.0.0.1 PRIVMSG #wasmnet :hello: there", Message{Source: "bob!~bob@127.0.0.1", Command: "PRIVMSG", Params: []string{"#wasmnet", "hello: there"}}},
		{":wasm!~wasm@localhost JOIN :#wasmnet", Message{Source: "wasm!~wasm@localhost", Command: "JOIN", Params: []string{"#wasmnet"}}},
		{":srv 353 wasm = #wasmnet :@bob wasm", Message{Source: "srv", Command: "353", Params: []string{"wasm", "=", "#wasmnet", "@bob wasm"}}},
		{"privmsg  #a   b", Message{Command: "PRIVMSG", Params: []string{"#a", "b"}}},
		{"PRIVMSG #a :", Message{Command: "PRIVMSG", Params: []string{"#a", ""}}},
		{"QUIT", Message{Command: "QUIT"}},
		{`@time=2024-01-01T00:00:00Z;msgid=a\sb\:c :n!u@h PRIVMSG #x :hi`,
			Message{Tags: map[string]string{"time": "2024-01-01T00:00:00Z", "msgid": "a b;c"}, Source: "n!u@h", Command: "PRIVMSG", Params: []string{"#x", "hi"}}},
	} {
		got, err := Parse(tt.line)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.line, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Parse(%q) = %#v, want %#v", tt.line, got, tt.want)
		}
		// What String writes parses back to the same message.
		again, err := Parse(got.String())
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("Parse(%q.String() = %q) = %#v, %v", tt.line, got.String(), again, err)
		}
	}
	for _, bad := range []string{"", ":src", ":", "@tags", ": PRIVMSG", ":src :cmd", "PRIV-MSG #a", "12 x", "1234 x"} {
		if m, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) = %#v, want an error", bad, m)
		}
	}
}

func TestString(t *testing.T) {
	for _, tt := range []struct {
		m    Message
		want string
	}{
		{Message{Command: "NICK", Params: []string{"wasm"}}, "NICK wasm"},
		{Message{Command: "PRIVMSG", Params: []string{"#c", "two words"}}, "PRIVMSG #c :two words"},
		{Message{Command: "PRIVMSG", Params: []string{"#c", ":)"}}, "PRIVMSG #c ::)"},
		{Message{Command: "QUIT", Params: []string{""}}, "QUIT :"},
		{Message{Source: "srv", Command: "001", Params: []string{"wasm", "Welcome"}}, ":srv 001 wasm Welcome"},
		{Message{Source: "srv", Command: "001", Params: []string{"wasm", "Welcome"}, Colon: true}, ":srv 001 wasm :Welcome"},
		{Message{Command: "JOIN", Params: []string{"#c"}, Colon: true}, "JOIN :#c"},
		{Message{Command: "QUIT", Colon: true}, "QUIT"},
	} {
		if got := tt.m.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.m, got, tt.want)
		}
		if err := tt.m.validate(); err != nil {
			t.Errorf("validate(%q): %v", tt.want, err)
		}
	}
	for _, bad := range []Message{
		{Command: "PRIVMSG", Params: []string{"#c", "a\r\nQUIT"}},
		{Command: "PRIVMSG", Params: []string{"two words", "x"}},
		{Command: "PRIVMSG", Params: []string{"", "x"}},
		{Command: ""},
		{Command: "A B"},
	} {
		if err := bad.validate(); err == nil {
			t.Errorf("validate(%#v) = nil, want an error", bad)
		}
	}
}

func TestNick(t *testing.T) {
	for src, want := range map[string]string{"bob!~b@h": "bob", "bob@h": "bob", "irc.example": "irc.example", "": ""} {
		if got := (Message{Source: src}).Nick(); got != want {
			t.Errorf("Nick of %q = %q, want %q", src, got, want)
		}
	}
}

func TestFold(t *testing.T) {
	if Fold("#WasmNet[x]~") != Fold("#wasmnet{x}^") {
		t.Error("RFC 1459 case mapping: [ ] ~ are the capitals of { } ^")
	}
}
