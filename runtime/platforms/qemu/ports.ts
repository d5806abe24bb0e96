/**
 * Free port picking within a range: a random start (so parallel builds rarely collide), then
 * each port in turn, checked by binding it on the address that will use it.
 */
import { createServer } from "node:net";
import type { PortRange } from "./factory.js";

function canBind(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port of `range` that is free on `host` now; throws when none is. */
export async function pickFreePort(range: PortRange, host = "127.0.0.1", avoid: ReadonlySet<number> = new Set()): Promise<number> {
  const [min, max] = range;
  const count = max - min + 1;
  const start = Math.floor(Math.random() * count);
  for (let i = 0; i < count; i++) {
    const port = min + ((start + i) % count);
    if (avoid.has(port)) continue;
    if (await canBind(port, host)) return port;
  }
  throw new Error(`no free port in ${min}-${max} on ${host}`);
}
