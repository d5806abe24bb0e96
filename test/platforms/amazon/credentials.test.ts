/**
 * Credentials as AWS users expect, checked on the simulator's request log (the access key id
 * of each SigV4 signature): static keys, a profile of a shared credentials file, and an assumed
 * role on top; the factory's schema rejects contradictory options.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import driver from "../../../runtime/platforms/amazon/driver.js";
import { amazonEbsOptionsSchema, amazonInstanceOptionsSchema } from "../../../runtime/platforms/amazon/factory.js";
import { baseOptions, nodeFor, RecordingLog, type Rig, startRig } from "./harness.js";

let rig: Rig;
let dir: string;
beforeAll(async () => {
  rig = await startRig();
  dir = mkdtempSync(join(tmpdir(), "imgc-aws-creds-"));
});
afterAll(async () => {
  await rig?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function preflight(options: Record<string, unknown>): Promise<RecordingLog> {
  const log = new RecordingLog();
  const env = { resolved: { node: nodeFor("amazon-ebs"), options, upstream: {} }, projectRoot: dir, workDir: dir, log, redact: () => {}, facts: {}, runId: "t" };
  await driver.preflight!(env as never, AbortSignal.timeout(20_000));
  return log;
}

const lastCaller = () => rig.ec2.requests.filter((r) => r.action === "sts:GetCallerIdentity").at(-1)!.accessKeyId;

describe("credentials", () => {
  it("uses static keys, never logging the secret", async () => {
    const log = await preflight(baseOptions(rig));
    expect(lastCaller()).toBe("AKIDIMGCTEST");
    expect(log.lines.join("\n")).toContain("AWS credentials of arn:aws:iam::123456789012:user/builder");
    expect(log.lines.join("\n")).not.toContain("imgc-test-secret-key-value");
  });

  it("reads a named profile from the shared credentials file", async () => {
    const file = join(dir, "credentials");
    writeFileSync(file, "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = d\n\n[imgc]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = p\n");
    const saved = { ...process.env };
    process.env.AWS_SHARED_CREDENTIALS_FILE = file;
    process.env.AWS_CONFIG_FILE = join(dir, "no-config");
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    try {
      const { accessKey: _a, secretKey: _s, ...rest } = baseOptions(rig);
      await preflight({ ...rest, profile: "imgc" });
      expect(lastCaller()).toBe("AKIDPROFILE");
    } finally {
      process.env = saved;
    }
  });

  it("assumes a role with STS and signs with the role's temporary keys", async () => {
    await preflight(baseOptions(rig, { assumeRole: { roleArn: "arn:aws:iam::123456789012:role/imgc-builder", sessionName: "ci", externalId: "x-1" } }));
    const key = lastCaller()!;
    expect(key).toMatch(/^ASIA/);
    expect(rig.ec2.assumedRoles.get(key)).toBe("arn:aws:iam::123456789012:role/imgc-builder");
    expect(rig.ec2.requests.some((r) => r.action === "sts:AssumeRole" && r.accessKeyId === "AKIDIMGCTEST")).toBe(true);
  });
});

describe("option schema", () => {
  const ok = { region: "eu-west-1", sourceAmi: "ami-1", instanceType: "t3.micro", amiName: "web-1", ssh: { username: "admin" } };
  it("accepts a plain build and rejects contradictions with the option's path", () => {
    expect(amazonEbsOptionsSchema.safeParse(ok).success).toBe(true);
    const cases: [Record<string, unknown>, string][] = [
      [{ ...ok, sourceAmiFilter: { owners: ["self"] } }, "set sourceAmi or sourceAmiFilter, not both"],
      [{ ...ok, region: "Ireland" }, "expected a region name such as eu-west-1"],
      [{ ...ok, forceDeleteSnapshot: true }, "forceDeleteSnapshot needs forceDeregister: true"],
      [{ ...ok, accessKey: "AKID" }, "accessKey and secretKey go together"],
      [{ ...ok, keyPairName: "mine" }, "with keyPairName, give its private key as ssh.privateKeyFile"],
      [{ ...ok, userData: "x", userDataFile: "./u.txt" }, "set userData or userDataFile, not both"],
      [{ ...ok, amiGroups: ["friends"] }, "amiGroups"],
      [{ ...ok, instanceTyp: "t3.micro" }, "instanceTyp"],
    ];
    for (const [input, message] of cases) {
      const r = amazonEbsOptionsSchema.safeParse(input);
      expect(r.success, message).toBe(false);
      expect(JSON.stringify(r.error!.issues), message).toContain(message);
    }
    expect(amazonInstanceOptionsSchema.safeParse(ok).success).toBe(false);
    expect(amazonInstanceOptionsSchema.safeParse({ ...ok, s3Bucket: "b", x509CertPath: "c.pem", x509KeyPath: "k.pem" }).success).toBe(true);
  });
});
