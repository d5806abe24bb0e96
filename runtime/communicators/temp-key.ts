/**
 * A temporary ed25519 key pair per build, for platforms that can inject a public key into the
 * machine (cloud-init, instance metadata, a key pair resource). The private key file is written
 * with mode 0600 (OpenSSH refuses looser keys) and deleted by `dispose()`, which the platform's
 * step cleanup calls whatever the outcome.
 */
import { randomBytes } from "node:crypto";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import ssh2 from "ssh2";
import { fingerprintOf } from "./ssh-host-key.js";

/** A generated key pair, in memory. */
export interface Ed25519KeyPair {
  /** OpenSSH-format private key. */
  readonly privateKey: string;
  /** `ssh-ed25519 AAAA… comment`, ready for authorized_keys. */
  readonly publicKeyLine: string;
  /** SHA256 fingerprint of the public key. */
  readonly fingerprint: string;
}

/** Generates an ed25519 key pair (no passphrase). */
export function generateEd25519(comment = "imgc-temporary"): Ed25519KeyPair {
  // ssh2's generator drops a leading zero byte of the 32-byte public key (about one key in
  // 256), which makes a malformed key that servers and EC2's ImportKeyPair refuse: such a pair
  // is thrown away and another made.
  let pair = ssh2.utils.generateKeyPairSync("ed25519", { comment });
  while (!isWellFormed(pair)) pair = ssh2.utils.generateKeyPairSync("ed25519", { comment });
  const publicKeyLine = pair.public.trim();
  const blob = Buffer.from(publicKeyLine.split(" ")[1]!, "base64");
  return { privateKey: pair.private, publicKeyLine, fingerprint: fingerprintOf(blob) };
}

/** A temporary key on disk. */
export interface TemporaryKey extends Ed25519KeyPair {
  /** The private key file (mode 0600). */
  readonly path: string;
  /** Deletes the private key file. Idempotent. */
  dispose(): Promise<void>;
}

/** Generates a key pair and writes the private key to `dir` with mode 0600. */
function isWellFormed(pair: { public: string; private: string }): boolean {
  return !(ssh2.utils.parseKey(pair.public.trim()) instanceof Error) && !(ssh2.utils.parseKey(pair.private) instanceof Error);
}

export async function createTemporaryKey(dir: string, comment?: string): Promise<TemporaryKey> {
  const pair = generateEd25519(comment);
  const path = join(dir, `imgc-key-${randomBytes(6).toString("hex")}`);
  await writeFile(path, pair.privateKey, { mode: 0o600, flag: "wx" });
  return { ...pair, path, dispose: () => rm(path, { force: true }) };
}
