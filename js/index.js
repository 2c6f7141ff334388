// The wasmnet package: the loader and the socket classes.
export * from "./wasmnet.js";
export * from "./sockets.js";
