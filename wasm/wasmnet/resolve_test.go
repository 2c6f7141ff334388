package wasmnet_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/wasmnet/wasmnet/wasm/wasmnet"
)

// TestResolveMXAndSend finds the mail exchanger of a test domain with the
// bridge's resolver, then delivers mail to the server it names.
func TestResolveMXAndSend(t *testing.T) {
	e := testEnv(t)
	d := &wasmnet.Dialer{Bridge: e.Bridge}
	defer d.Close()
	r := &wasmnet.Resolver{Dialer: d}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	mxs, err := r.LookupMX(ctx, "wasmnet.test")
	if err != nil {
		t.Fatal(err)
	}
	if len(mxs) != 1 || mxs[0].Host != "mail.wasmnet.test." || mxs[0].Pref != 10 {
		t.Fatalf("MX: %v", mxs)
	}
	addrs, err := r.LookupHost(ctx, mxs[0].Host)
	if err != nil {
		t.Fatal(err)
	}
	if len(addrs) != 1 || addrs[0] != "127.0.0.1" {
		t.Fatalf("%s: %v", mxs[0].Host, addrs)
	}
	// The exchanger listens on the test's port, not 25.
	_, port, _ := net.SplitHostPort(e.SMTP)
	sendMail(t, d, e, net.JoinHostPort(addrs[0], port))

	txts, err := r.LookupTXT(ctx, "wasmnet.test")
	if err != nil || len(txts) != 1 || txts[0] != "hello from wasmnet" {
		t.Errorf("TXT: %v, %v", txts, err)
	}
	_, srvs, err := r.LookupSRV(ctx, "smtp", "tcp", "wasmnet.test")
	if err != nil || len(srvs) != 1 || srvs[0].Target != "mail.wasmnet.test." || srvs[0].Port != 25 {
		t.Errorf("SRV: %v, %v", srvs, err)
	}
	var dnsErr *net.DNSError

	// wasmnet.test's addresses are in documentation ranges, which no rule
	// of this bridge opens: the bridge does not reveal them.
	if ips, err := r.LookupIP(ctx, "ip", "wasmnet.test"); !errors.As(err, &dnsErr) || dnsErr.Err != "answer hidden by bridge policy" {
		t.Errorf("addresses in special ranges: %v, %v; want them hidden", ips, err)
	}

	_, err = r.LookupHost(ctx, "nowhere.wasmnet.test")
	if !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
		t.Errorf("a name that does not exist: %v, want a *net.DNSError that is not found", err)
	}
}
