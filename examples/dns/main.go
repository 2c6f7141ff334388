// Command dns asks a DNS server questions with github.com/miekg/dns over a
// wasmnet connection, as dig would: A, AAAA, MX, TXT or any other type,
// over TCP, or over UDP with a retry over TCP when the answer is
// truncated. miekg/dns takes the connection as it comes from Dial; its code
// is unchanged.
//
// The same program runs in a web page (GOOS=js, see index.html), under
// Node.js (GOOS=js), headless in wazero (GOOS=wasip1, package wasm/host),
// and natively.
//
//	dns -server 127.0.0.1:53 wasmnet.test A AAAA MX TXT mail.wasmnet.test
//
// Each name is followed by the types to ask for it; a name with none gets A.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/miekg/dns"
	"github.com/wasmnet/wasmnet/examples/internal/cli"
)

// query is one question.
type query struct {
	name  string
	qtype uint16
}

type config struct {
	server  string
	network string // "tcp" or "udp"
	queries []query
	timeout time.Duration
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		cli.Usage("dns", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	if err := run(ctx, cfg, os.Stdout); err != nil {
		cli.Fail("dns", err)
	}
}

func parseFlags(args []string) (config, error) {
	fs := flag.NewFlagSet("dns", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: dns -server host:port name [type...] [name [type...]]...")
		fs.PrintDefaults()
	}
	var cfg config
	cli.StringVar(fs, &cfg.server, "server", "DNS_SERVER", "", "DNS server, host:port")
	fs.StringVar(&cfg.network, "net", "tcp", networkUsage)
	fs.DurationVar(&cfg.timeout, "timeout", 30*time.Second, "bound on the whole run")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if cfg.server == "" {
		return cfg, fmt.Errorf("-server is required")
	}
	if err := checkNetwork(cfg.network); err != nil {
		return cfg, err
	}
	words := fs.Args()
	if len(words) == 0 {
		words = strings.Fields(os.Getenv("DNS_QUERIES"))
	}
	var name string
	typed := true
	for _, w := range words {
		if t, ok := dns.StringToType[strings.ToUpper(w)]; ok && name != "" {
			cfg.queries = append(cfg.queries, query{name, t})
			typed = true
			continue
		}
		if !typed {
			cfg.queries = append(cfg.queries, query{name, dns.TypeA})
		}
		name, typed = dns.Fqdn(w), false
	}
	if !typed {
		cfg.queries = append(cfg.queries, query{name, dns.TypeA})
	}
	if len(cfg.queries) == 0 {
		return cfg, fmt.Errorf("no question: name the names to look up ($DNS_QUERIES)")
	}
	return cfg, nil
}
