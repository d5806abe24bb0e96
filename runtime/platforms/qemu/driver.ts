/**
 * The QEMU platform driver (`imgc/drivers/qemu`): assembles the steps from the options, like
 * Packer's qemu builder, and is the only part that knows the backend.
 *
 *   download → create-disk → media → http-server → accelerator → start-vm → boot-command →
 *   wait-ssh → PROVISION → shutdown → output
 *
 * Every step that started gets its cleanup in reverse order: the VM is killed if it still runs,
 * the HTTP server closed, temporary disks, sockets and partial outputs removed.
 */
import { join } from "node:path";
import { PROVISION, type ArtifactRecord, type DriverEnv, type PlatformDriver, type Step } from "../../types.js";
import { artifactExists, destroyArtifact, qemuArtifact } from "./artifact.js";
import type { QemuBackend } from "./backend.js";
import { processBackend } from "./backend-process.js";
import { makeConfig } from "./config.js";
import type { QemuContext } from "./context.js";
import type { QemuOptions } from "./factory.js";
import { acceleratorStep } from "./steps/accelerator.js";
import { bootCommandStep } from "./steps/boot-command.js";
import { createDiskStep } from "./steps/create-disk.js";
import { downloadStep } from "./steps/download.js";
import { httpServerStep } from "./steps/http-server.js";
import { mediaStep } from "./steps/media.js";
import { outputStep } from "./steps/output.js";
import { shutdownStep } from "./steps/shutdown.js";
import { startVmStep } from "./steps/start-vm.js";
import { waitSshStep } from "./steps/wait-ssh.js";

/** The upstream image's disk, for a node built `from` another qemu image. */
function upstreamDisk(env: DriverEnv): string | undefined {
  const source = env.resolved.node.source;
  if (source.kind !== "image") return undefined;
  const artifact = env.resolved.upstream[source.node];
  if (!artifact) throw new Error(`${env.resolved.node.id}: the artifact of ${source.node} (its \`from\`) is not available`);
  const data = artifact.data as { path?: unknown };
  if (artifact.platform !== "qemu" || typeof data.path !== "string") {
    throw new Error(`${env.resolved.node.id}: \`from\` ${source.node} is a ${artifact.platform} image; a qemu image can only start from a qemu image's disk`);
  }
  return data.path;
}

/** Makes the driver with a given backend (tests pass a fake; the default runs the real programs). */
export function qemuDriver(makeBackend: (options: QemuOptions) => QemuBackend = (o) => processBackend({ qemuImg: o.qemuImgBinary, qemuBinary: o.qemuBinary })): PlatformDriver<QemuOptions, QemuContext> {
  return {
    type: "qemu",
    version: 1,

    async preflight(env, signal) {
      const options = env.resolved.options as QemuOptions;
      const backend = makeBackend(options);
      // Both at once: each is a process start on the way to the VM's.
      await Promise.all([backend.version(options.qemuBinary ?? "qemu-system-x86_64", signal), backend.img(["--version"], signal)]);
    },

    createContext(env): QemuContext {
      const options = env.resolved.options as QemuOptions;
      const config = makeConfig(options, {
        nodeId: env.resolved.node.id,
        imageName: env.resolved.node.image,
        projectRoot: env.projectRoot,
        upstreamDisk: upstreamDisk(env),
      });
      return { env, config, backend: makeBackend(options), workDir: env.workDir, serialLog: join(env.workDir, "serial.log") };
    },

    steps(ctx): (Step<QemuContext> | typeof PROVISION)[] {
      const c = ctx.config;
      return [
        ...(c.isoUrls.length > 0 ? [downloadStep] : []),
        createDiskStep,
        mediaStep,
        httpServerStep,
        acceleratorStep,
        startVmStep,
        bootCommandStep,
        waitSshStep,
        PROVISION,
        shutdownStep,
        outputStep,
      ];
    },

    communicator(ctx) {
      return ctx.comm;
    },

    artifact(ctx): ArtifactRecord | undefined {
      return ctx.output ? qemuArtifact(ctx.env.resolved.node.id, ctx.output, ctx.accelerator?.accel) : undefined;
    },

    async exists(artifact) {
      return artifactExists(artifact);
    },

    async destroy(artifact) {
      await destroyArtifact(artifact);
    },
  };
}

/** The QEMU driver with the real backend. */
const driver: PlatformDriver<QemuOptions, QemuContext> = qemuDriver();
export default driver;
