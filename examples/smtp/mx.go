package main

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/wasmnet/wasmnet/wasm/wasmnet"
)

// lookupMX is the MX step, taken when no -server is given: it returns the
// preferred mail exchanger of domain, asking the bridge's resolver (a page
// cannot ask DNS itself).
func lookupMX(ctx context.Context, d *wasmnet.Dialer, domain string) (string, error) {
	mxs, err := (&wasmnet.Resolver{Dialer: d}).LookupMX(ctx, domain)
	if err != nil {
		return "", fmt.Errorf("MX of %s: %w", domain, err)
	}
	if len(mxs) == 0 {
		return domain, nil // no MX: the domain is its own (RFC 5321, 5.1)
	}
	slices.SortStableFunc(mxs, func(a, b *net.MX) int { return cmp.Compare(a.Pref, b.Pref) })
	host := strings.TrimSuffix(mxs[0].Host, ".")
	if host == "" {
		return "", fmt.Errorf("%s accepts no mail (null MX)", domain)
	}
	return host, nil
}
