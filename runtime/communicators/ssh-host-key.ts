/**
 * Host key policy. A pinned key (`ssh-ed25519 AAAA…`) or fingerprint (`SHA256:…`) is checked
 * and every other key is refused; `accept-new` accepts the first key a communicator sees, logs
 * its fingerprint, and from then on holds the connection (and reconnects) to that key.
 */
import { createHash } from "node:crypto";

/** The OpenSSH-style SHA256 fingerprint of a public key blob: `SHA256:` + unpadded base64. */
export function fingerprintOf(keyBlob: Buffer): string {
  return `SHA256:${createHash("sha256").update(keyBlob).digest("base64").replace(/=+$/, "")}`;
}

/** The key type named inside a key blob (`ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`…). */
export function keyTypeOf(keyBlob: Buffer): string {
  const len = keyBlob.readUInt32BE(0);
  return keyBlob.subarray(4, 4 + len).toString("latin1");
}

/** A parsed host key policy. */
export type HostKeyPolicy =
  | { readonly kind: "accept-new" }
  | { readonly kind: "fingerprint"; readonly fingerprint: string }
  | { readonly kind: "key"; readonly keyType: string; readonly fingerprint: string };

/** Parses the `hostKey` option; throws a sentence naming what is wrong. */
export function parseHostKeyPolicy(value: string | undefined): HostKeyPolicy {
  if (value === undefined || value === "accept-new") return { kind: "accept-new" };
  const v = value.trim();
  if (/^SHA256:[A-Za-z0-9+/]{43}=?$/.test(v)) return { kind: "fingerprint", fingerprint: v.replace(/=$/, "") };
  const m = /^(\S+)\s+([A-Za-z0-9+/]+={0,2})(\s.*)?$/.exec(v);
  if (m) {
    const blob = Buffer.from(m[2]!, "base64");
    if (blob.length > 4 && keyTypeOf(blob) === m[1]) return { kind: "key", keyType: m[1]!, fingerprint: fingerprintOf(blob) };
  }
  throw new Error(`ssh hostKey ${JSON.stringify(value)} is neither "accept-new", a public key line ("ssh-ed25519 AAAA…") nor a fingerprint ("SHA256:…")`);
}

/** The host key algorithms to offer: a pinned key's own type first, so the server shows that key. */
export function hostKeyAlgorithmsFor(policy: HostKeyPolicy): string[] | undefined {
  if (policy.kind !== "key") return undefined;
  if (policy.keyType === "ssh-rsa") return ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"];
  return [policy.keyType];
}

/** The error thrown when the server shows a key the policy refuses. Never retried. */
export class HostKeyMismatchError extends Error {
  constructor(
    readonly where: string,
    readonly seen: string,
    readonly expected: string,
  ) {
    super(`host key of ${where} is ${seen}, but ${expected} was expected: refusing to connect (pin the new key in ssh.hostKey if the machine was legitimately replaced)`);
    this.name = "HostKeyMismatchError";
  }
}

/** Checks host keys for one communicator; remembers the key accepted first. */
export class HostKeyChecker {
  /** The fingerprint accepted (first seen with accept-new, or the pinned one once seen). */
  accepted: string | undefined;
  /** The last refusal, to turn ssh2's generic error into a clear one. */
  refused: HostKeyMismatchError | undefined;

  constructor(
    private readonly policy: HostKeyPolicy,
    private readonly where: string,
    private readonly onAcceptNew: (fingerprint: string) => void,
  ) {}

  /** ssh2's `hostVerifier`: true to go on. */
  verify = (keyBlob: Buffer): boolean => {
    const seen = fingerprintOf(keyBlob);
    const expected = this.policy.kind === "accept-new" ? this.accepted : this.policy.fingerprint;
    if (expected === undefined) {
      this.accepted = seen;
      this.onAcceptNew(seen);
      return true;
    }
    if (seen === expected) {
      this.accepted = seen;
      return true;
    }
    this.refused = new HostKeyMismatchError(this.where, seen, expected);
    return false;
  };
}
