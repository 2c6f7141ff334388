package xmpp

import (
	"context"
	"encoding/xml"
	"fmt"
)

const (
	nsBind    = "urn:ietf:params:xml:ns:xmpp-bind"
	nsSession = "urn:ietf:params:xml:ns:xmpp-session"
)

// bind asks for resource (the server chooses one if it is empty) and
// returns the full JID the server bound (RFC 6120, section 7).
func (c *Client) bind(ctx context.Context, resource string) (JID, error) {
	// The bind element is spelt out: encoding/xml would put the namespace
	// of a "bind>resource" path on the resource.
	type bindElement struct {
		XMLName  xml.Name `xml:"urn:ietf:params:xml:ns:xmpp-bind bind"`
		Resource string   `xml:"resource,omitempty"`
		JID      string   `xml:"jid,omitempty"`
	}
	req := struct {
		XMLName xml.Name `xml:"jabber:client iq"`
		Type    string   `xml:"type,attr"`
		ID      string   `xml:"id,attr"`
		Bind    bindElement
	}{Type: "set", ID: c.newID(), Bind: bindElement{Resource: resource}}
	if err := c.s.send(ctx, req); err != nil {
		return JID{}, err
	}
	var res struct {
		IQ
		Bind bindElement
	}
	if err := c.s.readInto(ctx, nsClient, "iq", &res); err != nil {
		return JID{}, err
	}
	if err := iqResult(&res.IQ, req.ID); err != nil {
		return JID{}, fmt.Errorf("xmpp: binding a resource: %w", err)
	}
	return ParseJID(res.Bind.JID)
}

// startSession establishes a session for servers that still require it
// (RFC 3921; RFC 6121 dropped it, and servers mark it optional).
func (c *Client) startSession(ctx context.Context) error {
	id := c.newID()
	if err := c.s.write(ctx, "<iq xmlns='"+nsClient+"' type='set' id='"+id+"'><session xmlns='"+nsSession+"'/></iq>"); err != nil {
		return err
	}
	var res IQ
	if err := c.s.readInto(ctx, nsClient, "iq", &res); err != nil {
		return err
	}
	if err := iqResult(&res, id); err != nil {
		return fmt.Errorf("xmpp: starting a session: %w", err)
	}
	return nil
}

// iqResult checks that iq is the result of the request with id.
func iqResult(iq *IQ, id string) error {
	switch {
	case iq.ID != id:
		return fmt.Errorf("unexpected IQ %q while waiting for %q", iq.ID, id)
	case iq.Type == "error" && iq.Error != nil:
		return iq.Error
	case iq.Type != "result":
		return fmt.Errorf("IQ of type %q", iq.Type)
	}
	return nil
}
