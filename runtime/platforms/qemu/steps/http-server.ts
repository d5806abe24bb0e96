/**
 * Step "http-server": serves `httpDirectory` (or `httpContent`) to the guest on a free port of
 * `httpPortRange`, on 127.0.0.1 only; QEMU's user-mode network shows the host as 10.0.2.2, so
 * the build facts `httpIp`/`httpPort` are what a boot command or preseed URL uses.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { join, normalize, sep } from "node:path";
import type { Step } from "../../../types.js";
import type { QemuContext } from "../context.js";
import { pickFreePort } from "../ports.js";

/** The host as the guest sees it on QEMU's user-mode network. */
export const GUEST_HOST_IP = "10.0.2.2";

function handler(ctx: QemuContext) {
  const c = ctx.config;
  return async (req: IncomingMessage, res: ServerResponse) => {
    const url = decodeURIComponent(new URL(req.url ?? "/", "http://guest").pathname);
    const reply = (status: number, body: string) => {
      res.writeHead(status, { "content-type": "text/plain" });
      res.end(body);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return reply(405, "method not allowed\n");
    if (c.httpContent) {
      const body = c.httpContent[url] ?? c.httpContent[url.replace(/^\//, "")];
      if (body === undefined) return reply(404, "not found\n");
      res.writeHead(200, { "content-length": Buffer.byteLength(body) });
      res.end(req.method === "HEAD" ? undefined : body);
      return;
    }
    const root = c.httpDirectory!;
    const path = normalize(join(root, url));
    if (path !== root && !path.startsWith(root.endsWith(sep) ? root : root + sep)) return reply(403, "forbidden\n");
    try {
      const s = await stat(path);
      if (!s.isFile()) return reply(404, "not found\n");
      res.writeHead(200, { "content-length": s.size });
      if (req.method === "HEAD") return res.end();
      createReadStream(path).pipe(res);
    } catch {
      reply(404, "not found\n");
    }
  };
}

export const httpServerStep: Step<QemuContext> = {
  name: "http-server",
  async run(ctx) {
    const c = ctx.config;
    if (!c.httpDirectory && !c.httpContent) return;
    if (c.httpDirectory) {
      const s = await stat(c.httpDirectory).catch(() => undefined);
      if (!s?.isDirectory()) throw new Error(`${c.nodeId}: httpDirectory ${c.httpDirectory} is not a directory`);
    }
    for (let attempt = 0; ; attempt++) {
      const port = await pickFreePort(c.httpPortRange);
      const server = createServer(handler(ctx));
      try {
        await new Promise<void>((resolve, reject) => {
          server.once("error", reject);
          server.listen({ port, host: "127.0.0.1", exclusive: true }, resolve);
        });
      } catch (error) {
        if (attempt < 5) continue;
        throw new Error(`${c.nodeId}: the HTTP server could not listen: ${(error as Error).message}`);
      }
      ctx.http = { server, port };
      ctx.env.facts.httpIp = GUEST_HOST_IP;
      ctx.env.facts.httpPort = port;
      ctx.env.log.log("info", `serving ${c.httpDirectory ?? "httpContent"} to the guest at http://${GUEST_HOST_IP}:${port}/`);
      return;
    }
  },
  async cleanup(ctx) {
    const http = ctx.http;
    if (!http) return;
    ctx.http = undefined;
    http.server.closeAllConnections();
    await new Promise<void>((resolve) => http.server.close(() => resolve()));
  },
};
