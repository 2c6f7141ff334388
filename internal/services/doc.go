// Package services runs the small real servers that the demo and the tests
// reach through the bridge: an echo server, a pairing server that joins
// two connections end to end, a mail sink speaking SMTP with STARTTLS (and
// AUTH PLAIN on request), and a DNS server, plus a throwaway certificate
// authority for their TLS.
//
// Every server listens on loopback and stops when its Close is called.
package services
