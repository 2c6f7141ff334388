package xmpp

import "testing"

func TestParseJID(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want JID
	}{
		{"alice@wasmnet.test", JID{"alice", "wasmnet.test", ""}},
		{"alice@wasmnet.test/phone", JID{"alice", "wasmnet.test", "phone"}},
		{"wasmnet.test", JID{"", "wasmnet.test", ""}},
		{"alice@wasmnet.test/a/b@c", JID{"alice", "wasmnet.test", "a/b@c"}},
	} {
		got, err := ParseJID(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseJID(%q) = %#v, %v; want %#v", tt.in, got, err, tt.want)
		}
		if got.String() != tt.in {
			t.Errorf("%#v.String() = %q, want %q", got, got.String(), tt.in)
		}
	}
	for _, bad := range []string{"", "@wasmnet.test", "alice@", "alice@wasmnet.test/", "/r"} {
		if j, err := ParseJID(bad); err == nil {
			t.Errorf("ParseJID(%q) = %#v, want an error", bad, j)
		}
	}
	if j, _ := ParseJID("a@b/c"); j.Bare().String() != "a@b" {
		t.Errorf("Bare = %v", j.Bare())
	}
}
