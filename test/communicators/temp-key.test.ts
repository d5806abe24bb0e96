import ssh2 from "ssh2";
import { describe, expect, it } from "vitest";
import { generateEd25519 } from "../../runtime/communicators/temp-key.js";

describe("temporary ed25519 keys", () => {
  // ssh2's generator makes a malformed public key about once in 256 (a leading zero byte
  // dropped): 2,000 keys would hit it several times if generateEd25519 passed one on.
  it("are always well formed, public and private", () => {
    for (let i = 0; i < 2000; i++) {
      const pair = generateEd25519(`imgc-test-${i}`);
      expect(ssh2.utils.parseKey(pair.publicKeyLine), pair.publicKeyLine).not.toBeInstanceOf(Error);
      expect(ssh2.utils.parseKey(pair.privateKey)).not.toBeInstanceOf(Error);
      expect(Buffer.from(pair.publicKeyLine.split(" ")[1]!, "base64")).toHaveLength(51); // 4+11 name, 4+32 key
    }
  });
});
