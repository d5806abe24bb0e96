// The DSL builds plain, branded declaration data; nothing is evaluated where the user writes it.
import { describe, expect, it } from "vitest";
import { image, isImage, variable, secret, t, timestamp, env, lower, isRef, definePlatform, isPlatformSpec } from "../../lang/index.js";
import { shell, file, errorCleanup } from "../../lang/provisioners.js";
import { manifest } from "../../lang/post.js";
import { declaredVariables, declaredSecrets } from "../../lang/variables.js";
import { docker } from "../../runtime/platforms/docker/factory.js";

describe("lang", () => {
  it("t`` keeps refs symbolic and literals as parts", () => {
    const v = variable("dsl_version", { type: "string", default: "1" });
    const ref = t`app-${v}-${timestamp()}-${3}`;
    expect(isRef(ref)).toBe(true);
    expect(ref.expr).toEqual({ kind: "template", parts: ["app-", { kind: "var", name: "dsl_version" }, "-", { kind: "build", field: "timestamp" }, "-", 3] });
    expect(lower(env("HOME")).expr).toEqual({ kind: "fn", name: "lower", args: [{ kind: "env", name: "HOME" }] });
  });

  it("a ref cannot be turned into a string by accident", () => {
    const s = secret("dsl_token");
    expect(() => `${s}`).toThrow(/t`...\$\{value\}...`/);
    expect(() => JSON.stringify({ s })).toThrow(/cannot be JSON-stringified/);
  });

  it("variables and secrets register themselves for the compiler", () => {
    variable("dsl_count", { type: "number", default: 2, description: "how many" });
    secret("dsl_key", { affectsImage: true });
    expect(declaredVariables().get("dsl_count")![0]!.options).toMatchObject({ type: "number", default: 2 });
    expect(declaredSecrets().get("dsl_key")!.options).toEqual({ affectsImage: true });
    expect(() => variable("bad-name", { type: "string" })).toThrow(/IMGC_VAR_bad-name/);
  });

  it("image() flattens components, drops falsy entries, records its site", () => {
    const component = (n: number) => [shell({ inline: [`echo ${n}`] }), n > 1 && [file.content("x", "/x")]];
    const img = image("dsl-web", { platforms: [docker({ image: "i", commit: true })], provision: [component(1), null, component(2)], post: [manifest()] });
    expect(isImage(img)).toBe(true);
    expect(img.provision.map((p) => p.type)).toEqual(["shell", "shell", "file"]);
    expect(img.post.map((p) => p.type)).toEqual(["manifest"]);
    expect(img.site.file).toBe(import.meta.filename);
    expect(Object.isFrozen(img)).toBe(true);
    expect(() => image("no spaces", {})).toThrow(/not valid/);
    expect(img.artifact("docker").id.expr).toEqual({ kind: "artifact", image: "dsl-web", platform: "docker", field: "id" });
  });

  it("platform factories return serialisable specs named after their type unless renamed", () => {
    const acme = definePlatform<"dsl-acme", { size: number }>({ type: "dsl-acme", driver: "acme/driver", version: 3 });
    const spec = acme({ size: 2 });
    expect(isPlatformSpec(spec)).toBe(true);
    expect(spec).toMatchObject({ type: "dsl-acme", name: "dsl-acme", driver: "acme/driver", driverVersion: 3, options: { size: 2 } });
    expect(acme({ size: 1, name: "small" }).name).toBe("small");
  });

  it("provisioners carry only/except outside their options; errorCleanup marks one", () => {
    const p = shell({ inline: ["x"], only: ["docker"], maxRetries: 2 });
    expect(p.only).toEqual(["docker"]);
    expect(p.options).toEqual({ inline: ["x"], maxRetries: 2 });
    expect(errorCleanup(shell({ inline: ["y"] })).errorCleanup).toBe(true);
    const up = file.upload("./a.txt", "/a.txt");
    expect(up.options).toMatchObject({ direction: "upload", destination: "/a.txt" });
  });
});
