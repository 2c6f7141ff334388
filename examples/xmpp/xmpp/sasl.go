package xmpp

import (
	"context"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"slices"

	"github.com/emersion/go-sasl"
)

const nsSASL = "urn:ietf:params:xml:ns:xmpp-sasl"

// DefaultMechanisms are the SASL mechanisms a client tries, best first,
// when Config.Mechanisms is empty.
var DefaultMechanisms = []string{"SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"}

// newMechanism returns a SASL client for mech, or nil if this package
// has none.
func newMechanism(mech, user, password string) sasl.Client {
	switch mech {
	case "SCRAM-SHA-256":
		return newSCRAM(scramSHA256, user, password)
	case "SCRAM-SHA-1":
		return newSCRAM(scramSHA1, user, password)
	case sasl.Plain:
		return sasl.NewPlainClient("", user, password)
	}
	return nil
}

// authenticate runs SASL (RFC 6120, section 6) with the first of want
// that the server offers.
func (c *Client) authenticate(ctx context.Context, offered, want []string, user, password string) error {
	var mech sasl.Client
	for _, name := range want {
		if slices.Contains(offered, name) {
			if mech = newMechanism(name, user, password); mech != nil {
				break
			}
		}
	}
	if mech == nil {
		return fmt.Errorf("xmpp: no SASL mechanism in common: the server offers %v, we try %v", offered, want)
	}
	name, ir, err := mech.Start()
	if err != nil {
		return fmt.Errorf("xmpp: SASL %s: %w", name, err)
	}
	if err := c.s.write(ctx, "<auth xmlns='"+nsSASL+"' mechanism='"+escape(name)+"'>"+encode64(ir)+"</auth>"); err != nil {
		return err
	}
	for {
		var answer struct {
			XMLName xml.Name
			Data    string `xml:",chardata"`
			Text    string `xml:"text"`
			Inner   []struct {
				XMLName xml.Name
			} `xml:",any"`
		}
		if err := c.s.readInto(ctx, nsSASL, "", &answer); err != nil {
			return err
		}
		switch answer.XMLName.Local {
		case "challenge":
			data, err := decode64(answer.Data)
			if err != nil {
				return err
			}
			resp, err := mech.Next(data)
			if err != nil {
				c.s.write(ctx, "<abort xmlns='"+nsSASL+"'/>")
				return fmt.Errorf("xmpp: SASL %s: %w", name, err)
			}
			if err := c.s.write(ctx, "<response xmlns='"+nsSASL+"'>"+encode64(resp)+"</response>"); err != nil {
				return err
			}
		case "success":
			// Additional data with success is the server's last word,
			// such as SCRAM's proof that it knows the password.
			data, err := decode64(answer.Data)
			if err != nil {
				return err
			}
			if len(data) > 0 {
				if _, err := mech.Next(data); err != nil {
					return fmt.Errorf("xmpp: SASL %s: %w", name, err)
				}
			}
			if p, ok := mech.(mutual); ok && !p.serverVerified() {
				return fmt.Errorf("xmpp: SASL %s: the server did not prove that it knows the password", name)
			}
			c.mech = name
			return nil
		case "failure":
			cond := "failure"
			for _, el := range answer.Inner {
				if el.XMLName.Local != "text" {
					cond = el.XMLName.Local
					break
				}
			}
			return &AuthError{Mechanism: name, Condition: cond, Text: answer.Text}
		default:
			return fmt.Errorf("xmpp: unexpected <%s> during SASL", answer.XMLName.Local)
		}
	}
}

// mutual is a mechanism in which the server proves itself too.
type mutual interface{ serverVerified() bool }

// An AuthError is the server refusing to authenticate: a wrong password
// is Condition "not-authorized".
type AuthError struct {
	Mechanism, Condition, Text string
}

func (e *AuthError) Error() string {
	s := "xmpp: SASL " + e.Mechanism + ": " + e.Condition
	if e.Text != "" {
		s += ": " + e.Text
	}
	return s
}

// encode64 is SASL data as XMPP carries it: base64, with "=" for empty
// data and nothing for none.
func encode64(b []byte) string {
	switch {
	case b == nil:
		return ""
	case len(b) == 0:
		return "="
	}
	return base64.StdEncoding.EncodeToString(b)
}

func decode64(s string) ([]byte, error) {
	if s == "" || s == "=" {
		return nil, nil
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("xmpp: SASL data from the server is not base64")
	}
	return b, nil
}
