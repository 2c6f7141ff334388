// program.js: what the example pages share. Each page runs its example's
// Go program, compiled to WebAssembly as main.wasm beside the page, once
// per click, as a command line: flags from a form, secrets in the
// environment, output on the page.
import "../js/wasm_exec.js";

/** $ is document.getElementById. */
export const $ = (id) => document.getElementById(id);

/** fromQuery sets each field from the page URL's parameter of its id. */
export function fromQuery(ids) {
  const params = new URLSearchParams(location.search);
  for (const id of ids) if (params.has(id)) $(id).value = params.get(id);
}

/**
 * load compiles main.wasm, and sends what the program writes to stdout
 * and stderr to write, as text. It resolves to run(argv, env), which runs
 * the program once, to its end, and resolves to how it ended: { code },
 * its exit status, or { error } if the Go runtime crashed.
 * @param {(text: string) => void} write
 * @returns {Promise<(argv: string[], env?: Record<string, string>) => Promise<{ code?: number, error?: Error }>>}
 */
export async function load(write) {
  const dec = new TextDecoder();
  const writeSync = globalThis.fs.writeSync.bind(globalThis.fs);
  globalThis.fs.writeSync = (fd, buf) => {
    write(dec.decode(buf, { stream: true }));
    return writeSync(fd, buf);
  };
  const module = await WebAssembly.compileStreaming(fetch("main.wasm"));
  return async (argv, env = {}) => {
    const go = new globalThis.Go();
    go.argv = argv;
    go.env = env;
    let code = 0;
    go.exit = (c) => {
      code = c;
    };
    try {
      await go.run(await WebAssembly.instantiate(module, go.importObject));
      return { code };
    } catch (error) {
      return { error };
    }
  };
}

/** ending says how a run ended, as the pages print it: [exit 0]. */
export function ending({ code, error }) {
  if (error) return `[crashed: ${error.message}]`;
  return code === 0 ? "[exit 0]" : `[failed: exit ${code}]`;
}
