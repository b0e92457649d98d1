// etalase-fauxqs.mjs starts the fauxqs SQS emulator for etalase's local stack.
//
// Written next to node_modules/ by infra/emulator (Install) and run by Start. It
// exists because fauxqs's own CLI always listens on 0.0.0.0; this one listens on
// 127.0.0.1 only, logs warnings and errors only, and exits with its parent.
//
// Environment:
//   FAUXQS_PORT               port to listen on (required)
//   ETALASE_FAUXQS_LISTEN     address to listen on (default 127.0.0.1)
//   FAUXQS_DEFAULT_REGION     region for requests that carry no SigV4 signature
//   ETALASE_FAUXQS_LOG_LEVEL  fastify log level (default "warn"; "info" logs every request)
import { buildApp } from "fauxqs";

const port = Number.parseInt(process.env.FAUXQS_PORT ?? "", 10);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error(`etalase-fauxqs: FAUXQS_PORT must be a port number, got ${JSON.stringify(process.env.FAUXQS_PORT)}`);
  process.exit(2);
}
const host = process.env.ETALASE_FAUXQS_LISTEN || "127.0.0.1";

const app = buildApp({
  logger: { level: process.env.ETALASE_FAUXQS_LOG_LEVEL || "warn" },
  defaultRegion: process.env.FAUXQS_DEFAULT_REGION || undefined,
});

let closing = false;
function shutdown(code) {
  if (closing) return;
  closing = true;
  setTimeout(() => process.exit(code), 2000).unref();
  app.close().finally(() => process.exit(code));
}
process.on("SIGTERM", () => shutdown(0));
process.on("SIGINT", () => shutdown(0));

// Exit when the process that started us is gone (Linux also gets a parent-death signal).
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) shutdown(0);
}, 1000).unref();

try {
  await app.listen({ port, host });
} catch (err) {
  console.error(`etalase-fauxqs: listen on ${host}:${port}: ${err.message}`);
  process.exit(1);
}
console.log(`etalase-fauxqs: fauxqs listening on http://${host}:${port}`);
