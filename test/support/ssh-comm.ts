/** Makes SSH communicators for the test sshd. */
import { SshCommunicator, type SshConnectOptions } from "../../runtime/communicators/ssh.js";
import type { TestSshd } from "./sshd.js";

/** A communicator logged in as the sshd's (uid 0) user with the sshd's client key; `overrides` change any option. */
export function commFor(sshd: TestSshd, overrides: Partial<SshConnectOptions> = {}, logs: string[] = []): SshCommunicator {
  return new SshCommunicator({
    host: sshd.host,
    port: sshd.port,
    username: sshd.user,
    privateKey: sshd.clientKey,
    timeoutMs: 20_000,
    keepaliveIntervalMs: 1000,
    sftpConcurrency: 64,
    log: (level, message) => logs.push(`${level}: ${message}`),
    ...overrides,
  });
}
