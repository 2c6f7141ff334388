#!/usr/bin/env node
// Interop check: runs the real wisp-js server so that the wasmnet client can
// be tested against it.
//
//   node server.mjs [--host 127.0.0.1] [--port 0] [--log-level WARN]
//                   [--exit-on-stdin-eof]
//
// Once listening it prints one JSON line on stdout, {"port":N,...}, and then
// serves until killed. Everything wisp-js logs goes to stderr. With
// --exit-on-stdin-eof it also exits when its stdin closes, so a test that
// dies without cleaning up does not leave it running.
//
// Loopback and private destinations are allowed, as the test's echo server
// is on 127.0.0.1; wisp-js refuses them by default.

import http from "node:http";
import { readFileSync } from "node:fs";

import { server as wisp, logging } from "@mercuryworkshop/wisp-js/server";

// wisp-js logs info and debug with console.info/console.debug, which write
// to stdout; keep stdout for the one JSON line.
console.log = console.info = console.debug = console.error;

function parseArgs(argv) {
  const opt = { host: "127.0.0.1", port: 0, logLevel: "WARN", exitOnStdinEOF: false };
  for (let i = 0; i < argv.length; i++) {
    switch (argv[i]) {
      case "--host": opt.host = argv[++i]; break;
      case "--port": opt.port = Number(argv[++i]); break;
      case "--log-level": opt.logLevel = String(argv[++i]).toUpperCase(); break;
      case "--exit-on-stdin-eof": opt.exitOnStdinEOF = true; break;
      default: throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  if (!Number.isInteger(opt.port) || opt.port < 0 || opt.port > 65535) throw new Error("bad --port");
  if (!["DEBUG", "INFO", "WARN", "ERROR", "NONE"].includes(opt.logLevel)) throw new Error("bad --log-level");
  return opt;
}

let opt;
try {
  opt = parseArgs(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`server.mjs: ${e.message}\n`);
  process.exit(1);
}

const version = JSON.parse(readFileSync(new URL("./node_modules/@mercuryworkshop/wisp-js/package.json", import.meta.url))).version;

logging.set_level(logging[opt.logLevel]);
wisp.options.allow_loopback_ips = true;
wisp.options.allow_private_ips = true;

const server = http.createServer((req, res) => {
  res.writeHead(200, { "Content-Type": "text/plain" });
  res.end(`wisp-js ${version} test server\n`);
});
server.on("upgrade", (req, socket, head) => {
  wisp.routeRequest(req, socket, head);
});
server.on("error", (e) => {
  process.stderr.write(`server.mjs: ${e.message}\n`);
  process.exit(1);
});
server.listen(opt.port, opt.host, () => {
  const { port } = server.address();
  process.stdout.write(JSON.stringify({ port, url: `ws://${opt.host}:${port}/`, wisp_js: version }) + "\n");
});

if (opt.exitOnStdinEOF) {
  process.stdin.on("end", () => process.exit(0));
  process.stdin.on("error", () => process.exit(0));
  process.stdin.resume();
}
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(0));
