// A typed use of every export of the wasmnet package, checked by
// "tsc --noEmit -p js/typecheck" (make test). It imports the package by
// its name, so the check also covers package.json's exports and types.
// Lines marked @ts-expect-error must stay errors: they keep the types from
// going slack.
import { install, load, TCPSocket } from "wasmnet";
import type { RawSocket, Runtime, Stats, TCPSocketOpenInfo, TCPSocketOptions } from "wasmnet";
import type { GoRuntime } from "wasmnet/wasmnet.js";

export async function usage(caPEM: string): Promise<void> {
  const runtime: Runtime = await load({ bridge: "/wisp/", token: "abc", wasm: new URL("/main.wasm", location.href) });
  const version: string = runtime.version;
  const stats: Stats = await runtime.stats();
  const held: number = stats.recvBuffered + stats.sendQueued + stats.streams + stats.wasmMemory;

  const raw: RawSocket = await runtime.dial("example.com", 25, { receiveBufferSize: 1 << 16, tls: { serverName: "example.com", caCerts: caPEM } });
  const chunk: Uint8Array | null = await raw.read(1024);
  await raw.write(new TextEncoder().encode("EHLO x\r\n"));
  await raw.closeWrite();
  const secure: RawSocket = await raw.startTls({ serverName: "example.com" });
  const tlsVersion: string | undefined = secure.tls?.version;
  await secure.close();

  const options: TCPSocketOptions = {
    noDelay: true,
    keepAliveDelay: 60_000,
    sendBufferSize: 1 << 16,
    receiveBufferSize: 1 << 16,
    dnsQueryType: "ipv4",
    secureTransport: "starttls",
    expectedServerHostname: "mail.example.com",
    caCerts: [caPEM],
  };
  const socket = new TCPSocket("mail.example.com", 587, options);
  const info: TCPSocketOpenInfo = await socket.opened;
  const reader = info.readable.getReader();
  const { value, done } = await reader.read();
  const bytes: Uint8Array | undefined = value;
  reader.releaseLock();
  const writer = info.writable.getWriter();
  await writer.write(new Uint8Array([1, 2, 3]));
  writer.releaseLock();
  const upgraded: TCPSocket = socket.startTls({ expectedServerHostname: "mail.example.com" });
  const { tls, remoteAddress, remotePort, localAddress, localPort } = await upgraded.opened;
  await upgraded.close();
  await upgraded.closed;

  const Socket: typeof TCPSocket = install();
  new Socket("example.com", 7);

  const go = (globalThis as unknown as { wasmnet: GoRuntime }).wasmnet;
  const opened = await go.dial("example.com", 7);
  await go.read(opened.id, 10);

  // @ts-expect-error: secureTransport takes "off", "on" or "starttls"
  new TCPSocket("example.com", 7, { secureTransport: "maybe" });
  // @ts-expect-error: the port is a number
  new TCPSocket("example.com", "7");
  // @ts-expect-error: dial wants a port
  await runtime.dial("example.com");

  console.log(version, held, chunk, tlsVersion, done, bytes, tls?.cipherSuite, remoteAddress, remotePort, localAddress, localPort);
}
