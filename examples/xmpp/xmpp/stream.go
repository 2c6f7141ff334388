package xmpp

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"time"
)

// A stream is one XML stream on a connection: after STARTTLS and after
// SASL the client opens a new one, on the same or the TLS connection.
type stream struct {
	conn net.Conn
	dec  *xml.Decoder
	wmu  *sync.Mutex // shared by every stream of a client
	id   string      // the server's stream id
}

func newStream(conn net.Conn, wmu *sync.Mutex) *stream {
	return &stream{conn: conn, dec: xml.NewDecoder(conn), wmu: wmu}
}

// open sends the stream header for domain and reads the server's header
// and its stream features.
func (s *stream) open(ctx context.Context, domain string) (*features, error) {
	header := fmt.Sprintf("<?xml version='1.0'?><stream:stream xmlns='%s' xmlns:stream='%s' to='%s' version='1.0' xml:lang='en'>",
		nsClient, nsStream, escape(domain))
	if err := s.write(ctx, header); err != nil {
		return nil, err
	}
	defer watch(ctx, s.conn.SetReadDeadline)()
	for {
		tok, err := s.dec.Token()
		if err != nil {
			return nil, ctxErr(ctx, fmt.Errorf("xmpp: reading the stream header: %w", err))
		}
		if el, ok := tok.(xml.StartElement); ok {
			if el.Name.Space != nsStream || el.Name.Local != "stream" {
				return nil, fmt.Errorf("xmpp: the server began with <%s>, not a stream", el.Name.Local)
			}
			for _, a := range el.Attr {
				if a.Name.Local == "id" {
					s.id = a.Value
				}
			}
			break
		}
	}
	var f features
	if err := s.readInto(ctx, nsStream, "features", &f); err != nil {
		return nil, err
	}
	return &f, nil
}

// next reads the start of the next top-level element. The end of the
// server's stream is io.EOF, and a stream error is a *StreamError.
func (s *stream) next() (xml.StartElement, error) {
	for {
		tok, err := s.dec.Token()
		if err != nil {
			var syntax *xml.SyntaxError
			if errors.As(err, &syntax) && syntax.Msg == "unexpected EOF" {
				err = io.ErrUnexpectedEOF // the connection ended inside the stream
			}
			return xml.StartElement{}, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Space == nsStream && t.Name.Local == "error" {
				var e StreamError
				if err := s.dec.DecodeElement(&e, &t); err != nil {
					return t, err
				}
				return t, &e
			}
			return t, nil
		case xml.EndElement:
			return xml.StartElement{}, io.EOF // </stream:stream>
		}
	}
}

// readInto reads the next element into v. It must be in namespace space
// and, unless local is empty, be named local.
func (s *stream) readInto(ctx context.Context, space, local string, v any) error {
	defer watch(ctx, s.conn.SetReadDeadline)()
	el, err := s.next()
	if err != nil {
		return ctxErr(ctx, fmt.Errorf("xmpp: waiting for the server: %w", err))
	}
	if el.Name.Space != space || local != "" && el.Name.Local != local {
		return fmt.Errorf("xmpp: unexpected <%s xmlns='%s'> from the server", el.Name.Local, el.Name.Space)
	}
	return ctxErr(ctx, s.dec.DecodeElement(v, &el))
}

// write sends raw XML.
func (s *stream) write(ctx context.Context, raw string) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	defer watch(ctx, s.conn.SetWriteDeadline)()
	_, err := io.WriteString(s.conn, raw)
	return ctxErr(ctx, err)
}

// send marshals v and sends it.
func (s *stream) send(ctx context.Context, v any) error {
	b, err := xml.Marshal(v)
	if err != nil {
		return err
	}
	return s.write(ctx, string(b))
}

// features are the stream features the client acts on (RFC 6120,
// section 4.3.2).
type features struct {
	StartTLS *struct {
		Required *struct{} `xml:"required"`
	} `xml:"urn:ietf:params:xml:ns:xmpp-tls starttls"`
	Mechanisms *struct {
		Names []string `xml:"mechanism"`
	} `xml:"urn:ietf:params:xml:ns:xmpp-sasl mechanisms"`
	Bind    *struct{} `xml:"urn:ietf:params:xml:ns:xmpp-bind bind"`
	Session *struct {
		Optional *struct{} `xml:"optional"`
	} `xml:"urn:ietf:params:xml:ns:xmpp-session session"`
}

// A StreamError is the server ending the stream with an error (RFC 6120,
// section 4.9), such as not-authorized or host-unknown.
type StreamError struct {
	Condition string
	Text      string
}

func (e *StreamError) Error() string {
	if e.Text != "" {
		return "xmpp: stream error: " + e.Condition + ": " + e.Text
	}
	return "xmpp: stream error: " + e.Condition
}

func (e *StreamError) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	var raw struct {
		Inner []struct {
			XMLName xml.Name
			Text    string `xml:",chardata"`
		} `xml:",any"`
	}
	if err := d.DecodeElement(&raw, &start); err != nil {
		return err
	}
	for _, el := range raw.Inner {
		if el.XMLName.Local == "text" {
			e.Text = el.Text
		} else if e.Condition == "" {
			e.Condition = el.XMLName.Local
		}
	}
	return nil
}

func escape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// watch makes ctx bound one read or write: when ctx ends, it moves the
// connection's deadline to the past, which wakes a blocked call without
// closing anything. The returned function undoes it.
func watch(ctx context.Context, setDeadline func(time.Time) error) (done func()) {
	if ctx.Done() == nil {
		return func() {}
	}
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		setDeadline(time.Unix(1, 0))
		close(fired)
	})
	return func() {
		if !stop() {
			<-fired
		}
		setDeadline(time.Time{})
	}
}

// ctxErr reports a deadline set by watch as the context's error. watch
// sets one only once ctx has ended, so ctx.Err tells them apart from a
// deadline the caller set on the connection.
func ctxErr(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("xmpp: %w", context.Cause(ctx))
	}
	return err
}
