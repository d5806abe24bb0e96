/**
 * `imgc apply` end to end against the EC2 simulator: the CLI compiles a base → web project,
 * builds both AMIs (web from base's AMI), records region → AMI ids, and a second apply has
 * nothing to do; deregistering an AMI behind imgc's back makes the cache check rebuild it;
 * `imgc destroy` removes every AMI and snapshot; a SIGINT during a build leaves nothing behind.
 */
import { execa } from "execa";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OTHER, REGION, startRig, type Rig } from "./harness.js";

const project = fileURLToPath(new URL("./fixtures/project/", import.meta.url));
const cli = fileURLToPath(new URL("../../../bin/imgc.js", import.meta.url));
let rig: Rig;
let marker: string;

function imgc(args: string[]) {
  return execa("node", [cli, ...args, "images.ts", "--var", `ssh_user=${rig.user}`, "--var", `ssh_port=${rig.sshd.port}`, "--var", `checkip=${rig.ec2.endpoint}/checkip`, "--var", `marker=${marker}`], {
    cwd: project,
    reject: false,
    all: true,
    env: { AWS_ENDPOINT_URL: rig.ec2.endpoint, AWS_ACCESS_KEY_ID: "AKIDE2E", AWS_SECRET_ACCESS_KEY: "e2e-secret-value", AWS_PROFILE: "", AWS_CONFIG_FILE: "/nonexistent", AWS_SHARED_CREDENTIALS_FILE: "/nonexistent" },
  });
}

async function clean() {
  await rm(join(project, ".imgc"), { recursive: true, force: true });
  await rm(join(project, "manifest.json"), { force: true });
}

beforeAll(async () => {
  rig = await startRig();
  marker = join(rig.sshd.dir, "home", "marker");
  await clean();
}, 120_000);

afterAll(async () => {
  await clean();
  await rig?.stop();
});

describe("imgc apply with amazon-ebs", () => {
  it("builds base then web from base's AMI, is idempotent, rebuilds a vanished AMI, destroys everything", async () => {
    const first = await imgc(["apply"]);
    expect(first.exitCode, first.all).toBe(0);
    expect(first.all).not.toContain("e2e-secret-value");
    expect((await readFile(marker, "utf8")).split("\n").filter(Boolean)).toEqual(["base", "web"]);
    const manifest = await readFile(join(project, "manifest.json"), "utf8");
    const base = rig.ec2.ownImages(REGION).find((i) => i.name === "e2e-base")!;
    const web = rig.ec2.ownImages(REGION).find((i) => i.name === "e2e-web")!;
    expect(rig.ec2.ownImages(OTHER).map((i) => i.name).sort()).toEqual(["e2e-base", "e2e-web"]);
    expect(manifest).toContain(web.id);
    const webInstance = rig.ec2.region(REGION).instances.get(web.origin!.from!)!;
    expect(webInstance.imageId).toBe(base.id);
    expect(rig.ec2.requests.filter((r) => r.action === "RunInstances").every((r) => r.accessKeyId === "AKIDE2E")).toBe(true);
    expect(rig.ec2.live()).toEqual({ instances: [], keyPairs: [], securityGroups: [], spotRequests: [] });

    const second = await imgc(["apply"]);
    expect(second.exitCode, second.all).toBe(0);
    expect(rig.ec2.ownImages(REGION).length).toBe(2);

    // Someone deregisters web's copy: the cache's check finds it gone and web is rebuilt.
    rig.ec2.ownImages(OTHER).find((i) => i.name === "e2e-web")!.state = "deregistered";
    const third = await imgc(["apply"]);
    expect(third.exitCode, third.all).toBe(0);
    expect(rig.ec2.ownImages(OTHER).map((i) => i.name).sort()).toEqual(["e2e-base", "e2e-web"]);

    const destroyed = await imgc(["destroy", "--yes"]);
    expect(destroyed.exitCode, destroyed.all).toBe(0);
    for (const region of [REGION, OTHER]) expect(rig.ec2.ownImages(region).map((i) => i.name)).toEqual([]);
  });

  it("a SIGINT while the instance is provisioning leaves no instance, key pair, security group or AMI", async () => {
    await clean();
    await rm(marker, { force: true });
    const child = execa("node", [cli, "apply", "images.ts", "--var", `ssh_user=${rig.user}`, "--var", `ssh_port=${rig.sshd.port}`, "--var", `checkip=${rig.ec2.endpoint}/checkip`, "--var", `marker=${marker}`, "--var", "sleep=30"], {
      cwd: project,
      reject: false,
      all: true,
      env: { AWS_ENDPOINT_URL: rig.ec2.endpoint, AWS_ACCESS_KEY_ID: "AKIDE2E", AWS_SECRET_ACCESS_KEY: "e2e-secret-value" },
    });
    // Wait until the build instance runs and SSH is in use, then interrupt.
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && !(await readFile(marker, "utf8").catch(() => "")).includes("base")) {
      await new Promise((r) => setTimeout(r, 100));
    }
    if (rig.ec2.live().instances.length !== 1) {
      child.kill("SIGKILL");
      throw new Error(`the build did not reach provisioning: ${(await child).all}`);
    }
    child.kill("SIGINT");
    const r = await child;
    expect(r.exitCode, r.all).not.toBe(0);
    expect(rig.ec2.live()).toEqual({ instances: [], keyPairs: [], securityGroups: [], spotRequests: [] });
    expect(rig.ec2.ownImages(REGION).filter((i) => i.name === "e2e-base")).toEqual([]);
  });
});
