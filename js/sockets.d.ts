// Types of sockets.js: TCPSocket, as in Direct Sockets, with TLS shaped
// like Cloudflare's connect().

import type { TLSInfo } from "./wasmnet.js";

/** Options of new TCPSocket(): Direct Sockets' TCPSocketOptions, and TLS. */
export interface TCPSocketOptions {
  /** Accepted. The bridge's sockets always have TCP_NODELAY set. */
  noDelay?: boolean;
  /** Checked (at least 1000 ms), not applied: the bridge's sockets keep
   * its own keep-alive setting. */
  keepAliveDelay?: number;
  /** High-water mark, in bytes, of the writable's queue. */
  sendBufferSize?: number;
  /** The stream's receive window at the bridge: see DialOptions. */
  receiveBufferSize?: number;
  /** Checked, not applied: the bridge resolves names and picks the family. */
  dnsQueryType?: "ipv4" | "ipv6";
  /** "on": TLS from the start; "starttls": plain until startTls(). Default "off". */
  secureTransport?: "off" | "on" | "starttls";
  /** The name the certificate must be valid for. Default: remoteAddress. */
  expectedServerHostname?: string;
  /** PEM certificates to trust besides the built-in roots, for private CAs. */
  caCerts?: string | string[];
}

/** What opened resolves to. */
export interface TCPSocketOpenInfo {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<BufferSource>;
  remoteAddress: string;
  remotePort: number;
  localAddress: string;
  localPort: number;
  /** Present on a TLS socket (a wasmnet addition). */
  tls?: TLSInfo;
}

/** Options of startTls(), as in Cloudflare's. */
export interface TLSSocketOptions {
  expectedServerHostname?: string;
}

export class TCPSocket {
  constructor(remoteAddress: string, remotePort: number, options?: TCPSocketOptions);
  readonly opened: Promise<TCPSocketOpenInfo>;
  readonly closed: Promise<void>;
  close(): Promise<void>;
  /** Upgrades a socket made with secureTransport "starttls"; returns the
   * TLS socket. */
  startTls(options?: TLSSocketOptions): TCPSocket;
}

/** Makes TCPSocket a global unless the browser has a native one, and
 * returns the one in effect. */
export function install(): typeof TCPSocket;
