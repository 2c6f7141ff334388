// A typed use of every export of the wasmnet package, checked by
// "tsc --noEmit -p js/typecheck" (make test). It imports the package by
// its name, so the check also covers package.json's exports and types.
// Lines marked @ts-expect-error must stay errors: they keep the types from
// going slack.
import { install, load, TCPServerSocket, TCPSocket, UDPSocket } from "wasmnet";
import type {
  Datagram,
  InstalledSockets,
  RawListener,
  RawPacketSocket,
  RawSocket,
  RawUDPSocket,
  Runtime,
  Stats,
  TCPServerSocketOpenInfo,
  TCPServerSocketOptions,
  TCPSocketOpenInfo,
  TCPSocketOptions,
  UDPMessage,
  UDPReceivedMessage,
  UDPSocketOpenInfo,
  UDPSocketOptions,
} from "wasmnet";
import type { GoLocalInfo, GoRuntime } from "wasmnet/wasmnet.js";

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

  const installed: InstalledSockets = install();
  new installed.TCPSocket("example.com", 7);
  new installed.UDPSocket({ remoteAddress: "example.com", remotePort: 53 });
  new installed.TCPServerSocket("0.0.0.0");

  // UDP, connected: datagrams to and from one peer.
  const dnsOptions: UDPSocketOptions = { remoteAddress: "192.0.2.53", remotePort: 53, dnsQueryType: "ipv4", receiveBufferSize: 1 << 16, sendBufferSize: 1 << 14 };
  const udp = new UDPSocket(dnsOptions);
  const udpInfo: UDPSocketOpenInfo = await udp.opened;
  const udpWriter = udpInfo.writable.getWriter();
  const query: UDPMessage = { data: new Uint8Array(12) };
  await udpWriter.write(query);
  udpWriter.releaseLock();
  const udpReader = udpInfo.readable.getReader();
  const answer = await udpReader.read();
  const answerBytes: Uint8Array | undefined = answer.value?.data;
  udpReader.releaseLock();
  const peer: string | undefined = udpInfo.remoteAddress;
  await udp.close();
  await udp.closed;

  // UDP, bound: each message names its peer.
  const bound = new UDPSocket({ localAddress: "::", ipv6Only: false });
  const { readable: boundIn, writable: boundOut, localAddress: boundAddress, localPort: boundPort } = await bound.opened;
  const boundWriter = boundOut.getWriter();
  await boundWriter.write({ data: new ArrayBuffer(4), remoteAddress: "example.com", remotePort: 7, dnsQueryType: "ipv6" });
  const boundReader = boundIn.getReader();
  const got: ReadableStreamReadResult<UDPReceivedMessage> = await boundReader.read();
  const from: string | undefined = got.value?.remoteAddress;
  const fromPort: number | undefined = got.value?.remotePort;

  // A server socket, on a public port and on a named endpoint.
  const serverOptions: TCPServerSocketOptions = { localPort: 40000, backlog: 16, ipv6Only: true };
  const server = new TCPServerSocket("::", serverOptions);
  const serverInfo: TCPServerSocketOpenInfo = await server.opened;
  const accepted = await serverInfo.readable.getReader().read();
  if (!accepted.done) {
    const client: TCPSocket = accepted.value;
    const { remoteAddress: clientAddress, remotePort: clientPort } = await client.opened;
    console.log(clientAddress, clientPort);
    await client.close();
  }
  const endpoint = new TCPServerSocket("chat.wasmnet.internal", { localPort: 80 });
  const { localAddress: endpointName } = await endpoint.opened;
  await endpoint.close();
  await server.closed;

  // The runtime's raw UDP sockets and listeners.
  const rawUdp: RawUDPSocket = await runtime.dialUdp("192.0.2.53", 53, { receiveBufferSize: 1 << 16 });
  const datagram: Uint8Array<ArrayBuffer> = await rawUdp.read();
  await rawUdp.write(datagram);
  await rawUdp.close();
  const packets: RawPacketSocket = await runtime.listenPacket();
  await packets.writeTo(new Uint8Array(1), "example.com", 7, { dnsQueryType: "ipv4" });
  const dg: Datagram = await packets.readFrom();
  await packets.close();
  const listener: RawListener = await runtime.listen("chat.wasmnet.internal", 80);
  const conn: RawSocket | null = await listener.accept();
  await conn?.close();
  await listener.close();

  const go = (globalThis as unknown as { wasmnet: GoRuntime }).wasmnet;
  const opened = await go.dial("example.com", 7);
  await go.read(opened.id, 10);
  const goListener: GoLocalInfo = await go.listen("", 0);
  await go.accept(goListener.id);
  const goPackets: GoLocalInfo = await go.listenPacket({ receiveBufferSize: 1 << 16 });
  await go.writeTo(goPackets.id, new Uint8Array(1), "192.0.2.1", 7);
  const goDatagram: Datagram = await go.readFrom(goPackets.id);
  const goUdp = await go.dialUdp("192.0.2.1", 7);
  await go.close(goUdp.id);

  // @ts-expect-error: secureTransport takes "off", "on" or "starttls"
  new TCPSocket("example.com", 7, { secureTransport: "maybe" });
  // @ts-expect-error: the port is a number
  new TCPSocket("example.com", "7");
  // @ts-expect-error: dial wants a port
  await runtime.dial("example.com");
  // @ts-expect-error: connected mode needs remotePort too
  new UDPSocket({ remoteAddress: "example.com" });
  // @ts-expect-error: a socket is connected or bound, not both
  new UDPSocket({ remoteAddress: "example.com", remotePort: 53, localAddress: "0.0.0.0" });
  // @ts-expect-error: dnsQueryType goes in each message of a bound socket
  new UDPSocket({ localAddress: "0.0.0.0", dnsQueryType: "ipv4" });
  // @ts-expect-error: a UDPMessage carries data
  await udpWriter.write({ remoteAddress: "example.com", remotePort: 7 });
  // @ts-expect-error: the server socket's readable yields sockets, not bytes
  const notBytes: Uint8Array | undefined = (await serverInfo.readable.getReader().read()).value;

  console.log(version, held, chunk, tlsVersion, done, bytes, tls?.cipherSuite, remoteAddress, remotePort, localAddress, localPort);
  console.log(answerBytes, peer, boundAddress, boundPort, from, fromPort, endpointName, dg.remotePort, goDatagram.data, notBytes);
}
