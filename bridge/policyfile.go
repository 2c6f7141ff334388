//go:build !js && !wasip1

package bridge

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// ParsePolicy reads a policy file: one rule per line, each line "allow"
// or "deny" and then a rule in the form ParseRule takes (or several,
// separated by commas). A '#' starts a comment; blank lines are skipped.
//
//	# reach any public web server, and one mail server
//	allow *:443
//	allow mail.example.com:25
//	deny  203.0.113.0/24
//
// The order of lines does not matter: deny rules always win.
func ParsePolicy(r io.Reader) (Policy, error) {
	var p Policy
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		verb := fields[0]
		rules, err := ParseRules(strings.Join(fields[1:], " "))
		switch {
		case err != nil:
			return Policy{}, fmt.Errorf("policy line %d: %w", n, err)
		case len(rules) == 0:
			return Policy{}, fmt.Errorf("policy line %d: %q without a rule", n, verb)
		}
		switch verb {
		case "allow":
			p.Allow = append(p.Allow, rules...)
		case "deny":
			p.Deny = append(p.Deny, rules...)
		default:
			return Policy{}, fmt.Errorf("policy line %d: %q is neither allow nor deny", n, verb)
		}
	}
	return p, sc.Err()
}
