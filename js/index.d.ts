// Types of index.js: everything the wasmnet package exports.
export * from "./wasmnet.js";
export * from "./sockets.js";
