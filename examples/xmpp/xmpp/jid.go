package xmpp

import (
	"errors"
	"strings"
)

// A JID is an XMPP address: local@domain/resource, where only the domain
// is required. No stringprep or PRECIS normalization is done.
type JID struct {
	Local, Domain, Resource string
}

// ParseJID splits s into its parts (RFC 7622, section 3.1).
func ParseJID(s string) (JID, error) {
	var j JID
	rest, res, hasRes := strings.Cut(s, "/")
	if hasRes {
		if res == "" {
			return j, errors.New("xmpp: empty resource in JID " + s)
		}
		j.Resource = res
	}
	if local, domain, ok := strings.Cut(rest, "@"); ok {
		if local == "" {
			return j, errors.New("xmpp: empty local part in JID " + s)
		}
		j.Local, rest = local, domain
	}
	if rest == "" {
		return j, errors.New("xmpp: no domain in JID " + s)
	}
	j.Domain = rest
	return j, nil
}

// Bare is the JID without its resource.
func (j JID) Bare() JID { return JID{Local: j.Local, Domain: j.Domain} }

func (j JID) String() string {
	s := j.Domain
	if j.Local != "" {
		s = j.Local + "@" + s
	}
	if j.Resource != "" {
		s += "/" + j.Resource
	}
	return s
}
