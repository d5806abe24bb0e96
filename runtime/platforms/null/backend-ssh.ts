/** The null platform's backend over real SSH (ssh2). */
import { SshCommunicator } from "../../communicators/ssh.js";
import { probeHostKey } from "../../communicators/ssh-connect.js";
import type { NullBackend } from "./backend.js";

/** Connects with the SSH communicator; probes host keys with a key exchange only. */
export const sshBackend: NullBackend = {
  async connect(options, signal) {
    const comm = new SshCommunicator(options);
    await comm.connect(signal);
    return comm;
  },
  hostKey: (options, timeoutMs, signal) => probeHostKey(options, timeoutMs, signal),
};
