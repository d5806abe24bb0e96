/**
 * The null driver (`imgc/drivers/null`): connect (SSH) → PROVISION → disconnect, on a host that
 * already exists, like Packer's null builder. The artifact records the host, the user and the
 * host key fingerprint.
 *
 * Up to date means "this host, as it was provisioned": `exists` reads the host's key (a key
 * exchange, no login) and says the artifact is gone when the key differs from the recorded one
 * (the machine was reinstalled or replaced, so its provisioning is gone too). A host that does
 * not answer keeps its record, with a warning: an outage is no reason to plan a rebuild that
 * could not run anyway. `destroy` deletes nothing (imgc did not create the host); it only
 * lets the state forget the record, as Terraform does with a null_resource.
 */
import { sshConnectOptions, type ResolvedSshOptions } from "../../communicators/ssh-options.js";
import { PROVISION, type PlatformDriver } from "../../types.js";
import { nullArtifact, nullArtifactData } from "./artifact.js";
import type { NullBackend } from "./backend.js";
import { sshBackend } from "./backend-ssh.js";
import type { NullContext } from "./context.js";
import type { NullOptions } from "./factory.js";
import { connectStep } from "./steps/connect.js";
import { disconnectStep } from "./steps/disconnect.js";

/** How long `exists` waits for the host's key before keeping the record. */
const PROBE_MS = 10_000;

/** Makes a null driver over a backend (tests may pass their own; the default export uses SSH). */
export function createNullDriver(backend: NullBackend): PlatformDriver<NullOptions, NullContext> {
  // One probe per host and port per process: a project of many images on one host asks once.
  const probes = new Map<string, Promise<string | undefined>>();
  return {
    type: "null",
    version: 1,

    createContext(env) {
      return { env, backend, options: env.resolved.options as unknown as NullOptions };
    },

    steps: () => [connectStep, PROVISION, disconnectStep],

    communicator: (ctx) => ctx.session,

    artifact: (ctx) => nullArtifact(ctx),

    async exists(artifact, env, signal) {
      const recorded = nullArtifactData(artifact);
      if (!recorded.hostKeyFingerprint || !recorded.host) return true;
      const ssh = (env.options?.ssh ?? { host: recorded.host, port: recorded.port, username: recorded.user ?? "root", password: "" }) as unknown as ResolvedSshOptions;
      const opts = await sshConnectOptions({ ...ssh, timeout: PROBE_MS / 1000 }, { projectRoot: env.projectRoot }).catch(() => undefined);
      if (!opts) return true;
      const key = `${opts.bastion ? `${opts.bastion.host}:${opts.bastion.port}>` : ""}${opts.host}:${opts.port}`;
      let probe = probes.get(key);
      if (!probe) {
        probe = backend.hostKey(opts, PROBE_MS, signal);
        probes.set(key, probe);
        probe.catch(() => probes.delete(key));
      }
      const seen = await probe;
      if (seen === undefined) {
        env.log.log("warn", `${artifact.id} did not answer within ${PROBE_MS / 1000} s; keeping its record as up to date`);
        return true;
      }
      if (seen !== recorded.hostKeyFingerprint) {
        env.log.log("info", `${artifact.id} now shows host key ${seen}, not ${recorded.hostKeyFingerprint}: the machine was replaced, so it needs provisioning again`);
        return false;
      }
      return true;
    },

    async destroy(artifact, env) {
      env.log.log("info", `${artifact.id}: the null platform created nothing, so nothing is deleted; the record is forgotten`);
    },
  };
}

/** The null driver over SSH. */
const driver: PlatformDriver<NullOptions, NullContext> = createNullDriver(sshBackend);
export default driver;
