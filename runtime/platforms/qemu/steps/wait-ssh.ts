/**
 * Step "wait-ssh": waits until the guest's SSH server answers on the forwarded port, then
 * opens the communicator. QEMU's user-mode `hostfwd` accepts TCP before the guest listens (and
 * drops it), so readiness is the `SSH-` banner on a fresh connection, polled every 100 ms
 * (the communicator's own backoff grows to seconds, too slow for a VM that boots in eight).
 * The VM exiting meanwhile fails the step at once, with the end of its serial console.
 */
import { readFile } from "node:fs/promises";
import { parseDuration, type Duration } from "../../../../lang/duration.js";
import type { Socket } from "node:net";
import type { SshConnectOptions } from "../../../communicators/ssh.js";
import { awaitBanner, connectTcp, sleep } from "../../../communicators/ssh-transport.js";
import type { Step } from "../../../types.js";
import { describeExit } from "../backend.js";
import { localFile } from "../config.js";
import type { QemuContext } from "../context.js";

/** The last lines of the serial console, for error messages. */
export async function serialTail(ctx: QemuContext, lines = 8): Promise<string> {
  const text = await readFile(ctx.serialLog, "utf8").catch(() => "");
  const tail = text.trimEnd().split("\n").slice(-lines).join("\n  ");
  return tail ? `\n  serial console:\n  ${tail}` : "";
}

/**
 * Resolves when `host:port` sends an SSH banner on a fresh connection, with that connection
 * (the banner left unread, so an SSH client can take it over).
 */
export async function waitForBanner(ctx: QemuContext, host: string, port: number, timeoutMs: number, signal: AbortSignal): Promise<Socket> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    signal.throwIfAborted();
    const exit = ctx.vm?.exitStatus();
    if (exit) throw new Error(`${ctx.config.nodeId}: the VM stopped before SSH answered: ${describeExit(exit)}${await serialTail(ctx)}`);
    if (Date.now() > deadline) throw new Error(`${ctx.config.nodeId}: SSH on ${host}:${port} did not answer within ${Math.round(timeoutMs / 1000)} s${await serialTail(ctx)}`);
    try {
      const sock = await connectTcp(host, port, 2000, signal);
      return await awaitBanner(sock, 2000, `${host}:${port}`);
    } catch {
      if (signal.aborted) throw signal.reason ?? new Error("cancelled");
      await sleep(100, signal);
    }
  }
}

export const waitSshStep: Step<QemuContext> = {
  name: "wait-ssh",
  async run(ctx, signal) {
    const c = ctx.config;
    if (c.communicator !== "ssh") return;
    const ssh = c.ssh!;
    const host = (ssh.host as string | undefined) ?? "127.0.0.1";
    const port = (ssh.port as number | undefined) ?? ctx.sshHostPort!;
    const timeoutMs = parseDuration((ssh.timeout ?? "5m") as Duration);
    const keyFile = localFile(ssh.privateKeyFile, ctx.env.projectRoot);
    const privateKey = keyFile ? await readFile(keyFile, "utf8") : undefined;
    if (privateKey) ctx.env.redact(privateKey);
    const agent = ssh.agent ? process.env.SSH_AUTH_SOCK : undefined;
    if (ssh.agent && !agent) throw new Error(`${c.nodeId}: ssh.agent is set but SSH_AUTH_SOCK is not`);
    const options: SshConnectOptions = {
      host,
      port,
      username: ssh.username as string,
      ...(ssh.password !== undefined ? { password: ssh.password as string } : {}),
      ...(privateKey !== undefined ? { privateKey } : {}),
      ...(agent ? { agent } : {}),
      hostKey: ssh.hostKey ?? "accept-new",
      timeoutMs: Math.max(30_000, timeoutMs - 0),
      keepaliveIntervalMs: parseDuration((ssh.keepaliveInterval ?? "5s") as Duration),
      sftpConcurrency: ssh.sftpConcurrency ?? 64,
      log: (level, message) => ctx.env.log.log(level, message),
    };
    ctx.env.log.log("info", `waiting for SSH on ${host}:${port}`);
    // The SSH client (ssh2 and the transfer code) loads while the guest boots, not before the
    // VM starts: this module is on the path from `imgc apply` to the VM's start.
    const sshModule = import("../../../communicators/ssh.js");
    sshModule.catch(() => {});
    const firstStream = await waitForBanner(ctx, host, port, timeoutMs, signal);
    let comm;
    try {
      const { SshCommunicator } = await sshModule;
      comm = new SshCommunicator(options);
    } catch (error) {
      firstStream.destroy();
      throw error;
    }
    ctx.comm = comm;
    await comm.connect(signal, firstStream);
    ctx.env.facts.host = host;
    ctx.env.facts.port = port;
    ctx.env.facts.user = options.username;
    ctx.env.log.log("info", `SSH ready: ${options.username}@${host}:${port}`);
  },
  async cleanup(ctx) {
    const comm = ctx.comm;
    ctx.comm = undefined;
    await comm?.close();
  },
};
