// The module Worker side of harness.html: runs a check, posts its reply.
import { run } from "./checks.js";

self.onmessage = async ({ data: { id, name, cfg } }) => {
  const reply = await run(name, cfg);
  try {
    self.postMessage({ id, reply });
  } catch (err) {
    // A reply that cannot be cloned must still end the wait.
    self.postMessage({ id, reply: { error: { name: err.name, message: `the reply cannot be posted: ${err.message}` } } });
  }
};
