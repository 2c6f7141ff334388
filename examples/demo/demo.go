//go:build !js && !wasip1

package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/wasmnet/wasmnet/bridge"
	"github.com/wasmnet/wasmnet/internal/services"
	"github.com/wasmnet/wasmnet/internal/webserve"
)

// ports are the loopback addresses of the demo services.
type ports struct {
	Echo, DNS, SMTP, Mailbox string
}

var defaultPorts = ports{
	Echo:    "127.0.0.1:17007",
	DNS:     "127.0.0.1:15353",
	SMTP:    "127.0.0.1:12525",
	Mailbox: "127.0.0.1:17008",
}

// mailServerName is the name on the mail sink's certificate.
const mailServerName = "mail.wasmnet.test"

// demo is the page, the bridge and the services.
type demo struct {
	http.Handler
	bridge  *bridge.Handler
	config  ports
	ca      *services.CA
	sink    *services.MailSink
	closers []func() error
}

func start(root string, p ports, log *slog.Logger) (*demo, error) {
	d := &demo{}
	ok := false
	defer func() {
		if !ok {
			d.Close()
		}
	}()

	echo, err := services.Echo(p.Echo)
	if err != nil {
		return nil, fmt.Errorf("echo service: %w", err)
	}
	d.closers = append(d.closers, echo.Close)
	dns, err := services.DNSAt(p.DNS, services.Zone)
	if err != nil {
		return nil, fmt.Errorf("DNS service: %w", err)
	}
	d.closers = append(d.closers, dns.Close)
	if d.ca, err = services.NewCA(); err != nil {
		return nil, err
	}
	tlsConf, err := d.ca.ServerTLS(mailServerName)
	if err != nil {
		return nil, err
	}
	if d.sink, err = services.SMTP(p.SMTP, tlsConf, true); err != nil {
		return nil, fmt.Errorf("mail sink: %w", err)
	}
	d.closers = append(d.closers, d.sink.Close)
	mailbox, err := d.sink.Mailbox(p.Mailbox)
	if err != nil {
		return nil, fmt.Errorf("mailbox: %w", err)
	}
	d.closers = append(d.closers, mailbox.Close)
	d.config = ports{
		Echo:    echo.Addr().String(),
		DNS:     dns.Addr(),
		SMTP:    d.sink.Addr().String(),
		Mailbox: mailbox.Addr().String(),
	}

	// The policy opens exactly the demo services.
	rules, err := bridge.ParseRules(strings.Join([]string{d.config.Echo, d.config.DNS, d.config.SMTP, d.config.Mailbox}, ","))
	if err != nil {
		return nil, err
	}
	d.bridge = bridge.NewHandler(bridge.Config{Policy: bridge.Policy{Allow: rules}, Logger: log})
	d.closers = append(d.closers, d.bridge.Close)

	mux := http.NewServeMux()
	mux.Handle("/wisp/", d.bridge)
	mux.HandleFunc("/demo/config.json", d.serveConfig)
	mux.HandleFunc("/demo/ca.pem", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-pem-file")
		w.Write(d.ca.PEM)
	})
	mux.HandleFunc("/demo/mail.json", d.serveMail)
	mux.Handle("/", webserve.Static(root))
	d.Handler = mux
	ok = true
	return d, nil
}

func (d *demo) serveConfig(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	json.NewEncoder(w).Encode(map[string]string{
		"bridge":  "/wisp/",
		"echo":    d.config.Echo,
		"dns":     d.config.DNS,
		"smtp":    d.config.SMTP,
		"mailbox": d.config.Mailbox,
		// The name on the mail server's certificate, which the page
		// expects when it starts TLS.
		"smtpServerName": mailServerName,
	})
}

// serveMail lists what the mail sink received, newest last.
func (d *demo) serveMail(w http.ResponseWriter, r *http.Request) {
	type mail struct {
		From string   `json:"from"`
		To   []string `json:"to"`
		TLS  string   `json:"tls"`
		Data string   `json:"data"`
	}
	out := []mail{}
	for _, m := range d.sink.Mail() {
		out = append(out, mail{m.From, m.To, m.TLS, string(m.Data)})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	json.NewEncoder(w).Encode(out)
}

// Close stops everything.
func (d *demo) Close() error {
	for i := len(d.closers) - 1; i >= 0; i-- {
		d.closers[i]()
	}
	return nil
}
