//go:build !js && !wasip1

package bridge

import (
	"strings"
	"testing"

	"github.com/wasmnet/wasmnet/wisp"
)

func TestParsePolicy(t *testing.T) {
	p, err := ParsePolicy(strings.NewReader(`
# web servers anywhere, and one mail server
deny  203.0.113.0/24          # deny rules win wherever they stand
allow *:443
allow mail.example.com:25, mail.example.com:587
	allow [2001:db8::/32]:8000-8999

deny *.bad.example
`))
	if err != nil {
		t.Fatal(err)
	}
	var allow, deny []string
	for _, r := range p.Allow {
		allow = append(allow, r.String())
	}
	for _, r := range p.Deny {
		deny = append(deny, r.String())
	}
	if got := strings.Join(allow, " "); got != "*:443 mail.example.com:25 mail.example.com:587 [2001:db8::/32]:8000-8999" {
		t.Errorf("allow rules %s", got)
	}
	if got := strings.Join(deny, " "); got != "203.0.113.0/24 *.bad.example" {
		t.Errorf("deny rules %s", got)
	}
	check(t, &p, "9.9.9.9", "9.9.9.9", 443, true)
	check(t, &p, "203.0.113.9", "203.0.113.9", 443, false)
	check(t, &p, "www.bad.example", "9.9.9.9", 443, false)
	check(t, &p, "mail.example.com", "198.51.100.25", 587, true)
	check(t, &p, "2001:db8::1", "2001:db8::1", 8080, true)
	check(t, &p, "9.9.9.9", "9.9.9.9", 80, false)

	for _, bad := range []string{
		"permit *:443",      // neither allow nor deny
		"allow",             // no rule
		"allow # comment",   // no rule either
		"allow a b",         // not a rule
		"allow *:443\ndeny", // on line 2
		"allow *:0",
	} {
		if _, err := ParsePolicy(strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "policy line") {
			t.Errorf("ParsePolicy(%q): %v, want an error naming the line", bad, err)
		}
	}
	if _, err := ParsePolicy(strings.NewReader("allow *:443\ndeny")); !strings.Contains(err.Error(), "line 2") {
		t.Errorf("the error names the wrong line: %v", err)
	}
	if p, err := ParsePolicy(strings.NewReader("# nothing\n\n")); err != nil || len(p.Allow)+len(p.Deny) != 0 {
		t.Errorf("an empty policy: %v, %v", p, err)
	}
}

// A policy file's rules, given to a bridge, decide what its sessions
// reach.
func TestPolicyFileTakesEffect(t *testing.T) {
	allowed := listen(t, nil)
	denied := listen(t, nil)
	p, err := ParsePolicy(strings.NewReader("allow 127.0.0.1/32\ndeny " + denied.addr() + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	b := startBridge(t, Config{Policy: p})
	s := dialV2(t, b, wisp.ExtOpened)
	s.connect(1, allowed.addr())
	if got := s.nextOn(1); got.Type != wisp.TypeOpened {
		t.Fatalf("allowed by the file: got %v (reason %v), want OPENED", got.Type, got.Reason)
	}
	allowed.accept(t)
	s.connect(2, denied.addr())
	s.expectClose(2, wisp.ReasonBlocked)
}
