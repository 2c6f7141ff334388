package xmpp

import (
	"encoding/xml"
	"fmt"
)

// Namespaces of the stream and the stanzas.
const (
	nsClient  = "jabber:client"
	nsStream  = "http://etherx.jabber.org/streams"
	nsStanzas = "urn:ietf:params:xml:ns:xmpp-stanzas"
)

// A Message is a message stanza (RFC 6121, section 5).
type Message struct {
	XMLName xml.Name     `xml:"jabber:client message"`
	ID      string       `xml:"id,attr,omitempty"`
	From    string       `xml:"from,attr,omitempty"`
	To      string       `xml:"to,attr,omitempty"`
	Type    string       `xml:"type,attr,omitempty"` // chat, normal, groupchat, headline or error
	Subject string       `xml:"subject,omitempty"`
	Body    string       `xml:"body,omitempty"`
	Thread  string       `xml:"thread,omitempty"`
	Error   *StanzaError `xml:"error"`
}

// A Presence is a presence stanza (RFC 6121, section 4).
type Presence struct {
	XMLName  xml.Name     `xml:"jabber:client presence"`
	ID       string       `xml:"id,attr,omitempty"`
	From     string       `xml:"from,attr,omitempty"`
	To       string       `xml:"to,attr,omitempty"`
	Type     string       `xml:"type,attr,omitempty"` // empty (available), unavailable, subscribe, ...
	Show     string       `xml:"show,omitempty"`      // away, chat, dnd or xa
	Status   string       `xml:"status,omitempty"`
	Priority int          `xml:"priority,omitempty"`
	Error    *StanzaError `xml:"error"`
}

// An IQ is an info/query stanza (RFC 6120, section 8.2.3). Its payload is
// kept as raw XML.
type IQ struct {
	XMLName xml.Name     `xml:"jabber:client iq"`
	ID      string       `xml:"id,attr"`
	From    string       `xml:"from,attr,omitempty"`
	To      string       `xml:"to,attr,omitempty"`
	Type    string       `xml:"type,attr"` // get, set, result or error
	Payload []byte       `xml:",innerxml"`
	Error   *StanzaError `xml:"error"`
}

// A StanzaError is the error child of a stanza (RFC 6120, section 8.3).
type StanzaError struct {
	Type      string `xml:"type,attr"` // auth, cancel, continue, modify or wait
	Condition string // such as service-unavailable
	Text      string
}

func (e *StanzaError) Error() string {
	if e.Text != "" {
		return fmt.Sprintf("xmpp: %s (%s): %s", e.Condition, e.Type, e.Text)
	}
	return fmt.Sprintf("xmpp: %s (%s)", e.Condition, e.Type)
}

// UnmarshalXML reads the defined condition, whatever element it is, and
// the text.
func (e *StanzaError) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	var raw struct {
		Type  string `xml:"type,attr"`
		Inner []struct {
			XMLName xml.Name
			Text    string `xml:",chardata"`
		} `xml:",any"`
	}
	if err := d.DecodeElement(&raw, &start); err != nil {
		return err
	}
	e.Type = raw.Type
	for _, el := range raw.Inner {
		if el.XMLName.Space != nsStanzas {
			continue
		}
		if el.XMLName.Local == "text" {
			e.Text = el.Text
		} else {
			e.Condition = el.XMLName.Local
		}
	}
	return nil
}

// MarshalXML writes the condition in its namespace.
func (e *StanzaError) MarshalXML(enc *xml.Encoder, start xml.StartElement) error {
	start.Attr = []xml.Attr{{Name: xml.Name{Local: "type"}, Value: e.Type}}
	cond := xml.StartElement{Name: xml.Name{Space: nsStanzas, Local: e.Condition}}
	if err := enc.EncodeToken(start); err != nil {
		return err
	}
	if err := enc.EncodeToken(cond); err != nil {
		return err
	}
	if err := enc.EncodeToken(cond.End()); err != nil {
		return err
	}
	if e.Text != "" {
		if err := enc.EncodeElement(e.Text, xml.StartElement{Name: xml.Name{Space: nsStanzas, Local: "text"}}); err != nil {
			return err
		}
	}
	return enc.EncodeToken(start.End())
}
