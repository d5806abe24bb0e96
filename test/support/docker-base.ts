/**
 * Local base images for docker tests, with no registry: a tiny busybox-static image (built in
 * memory from the host's static busybox, well under a second) for most tests, and a Debian
 * bookworm minbase (debootstrap, cached under test/.cache by scripts/docker-base.sh) for the
 * example. Both are made once per machine and reused.
 */
import { execFile } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { pack } from "tar-stream";
import type { DockerBackend } from "../../runtime/platforms/docker/backend.js";
import { EngineBackend } from "../../runtime/platforms/docker/backend-engine.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The busybox test image's name. */
export const BUSYBOX_IMAGE = "imgc-test/busybox:1";
/** The Debian test image's name. */
export const DEBIAN_IMAGE = "local/debian:12";

const BUSYBOX = ["/bin/busybox", "/usr/bin/busybox"].find((p) => {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
});

/** A rootfs tar (needs Debian's busybox-static, a static binary): busybox with its applets as symlinks, root's passwd/group, a nobody user. */
function busyboxRootfs(): Readable {
  if (!BUSYBOX) throw new Error("busybox is not installed: apt-get install busybox-static");
  const binary = readFileSync(BUSYBOX);
  const p = pack();
  const dir = (name: string, mode = 0o755): void => void p.entry({ name, type: "directory", mode });
  dir("bin/");
  dir("etc/");
  dir("root/", 0o700);
  dir("tmp/", 0o1777);
  dir("home/");
  dir("home/nobody/");
  p.entry({ name: "bin/busybox", mode: 0o755, size: binary.length }, binary);
  p.entry({ name: "bin/sh", type: "symlink", linkname: "busybox" });
  p.entry({ name: "etc/passwd", mode: 0o644 }, "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home/nobody:/bin/sh\n");
  p.entry({ name: "etc/group", mode: 0o644 }, "root:x:0:\nnogroup:x:65534:\n");
  p.finalize();
  return p as unknown as Readable;
}

/** Makes the busybox image once; busybox installs its own applet symlinks in a first container. */
export async function busyboxImage(backend: DockerBackend = new EngineBackend()): Promise<string> {
  const existing = await backend.inspectImage(BUSYBOX_IMAGE);
  if (existing) return BUSYBOX_IMAGE;
  const tar = busyboxRootfs();
  const id = await backend.importImage(tar, { reference: `${BUSYBOX_IMAGE}-stage`, changes: ['CMD ["/bin/sh"]', "ENV PATH=/bin"] });
  // Install the applet symlinks from inside, then commit: busybox knows its own applet list.
  const cid = await backend.createContainer({ image: id, labels: { "imgc.test": "base" }, cmd: ["/bin/sh"], tty: true, network: "none" });
  try {
    await backend.startContainer(cid);
    const code = await backend.exec(cid, { cmd: ["/bin/busybox", "--install", "-s", "/bin"] });
    if (code !== 0) throw new Error(`busybox --install failed (exit ${code})`);
    await backend.commit(cid, { changes: ['CMD ["/bin/sh"]'] }).then((img) => backend.tag(img, BUSYBOX_IMAGE.split(":")[0]!, "1"));
  } finally {
    await backend.removeContainer(cid);
    await backend.removeImage(`${BUSYBOX_IMAGE}-stage`, { force: true });
  }
  return BUSYBOX_IMAGE;
}

/** Makes the Debian bookworm image once (debootstrap the first time on a machine, ~30 s). */
export async function debianImage(name = DEBIAN_IMAGE): Promise<string> {
  await promisify(execFile)(join(root, "scripts", "docker-base.sh"), [name, join(root, "test", ".cache")], { maxBuffer: 1 << 24 });
  return name;
}
