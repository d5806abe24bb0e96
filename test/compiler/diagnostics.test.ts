// Every diagnostic of issue 2 point 4, triggered by a fixture project, with its code, sentence
// and original file:line:col checked.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileProject } from "../../compiler/index.js";
import { isImgcError, type ImgcError } from "../../compiler/diagnostics.js";

const dir = join(import.meta.dirname, "../fixtures/diagnostics");

async function failure(name: string, options: Parameters<typeof compileProject>[0] = {}): Promise<ImgcError> {
  const file = options.file ?? join(dir, name, "images.ts");
  try {
    await compileProject({ env: {}, ...options, file });
  } catch (error) {
    if (isImgcError(error)) return error;
    throw error;
  }
  throw new Error(`${name} compiled without error`);
}

const all = (e: ImgcError): ImgcError[] => (e.related.length ? [...e.related] : [e]);

describe("compiler diagnostics", () => {
  it("a syntax error names the file, line and column", async () => {
    const e = await failure("syntax");
    expect(e.code).toBe("IMGC_SYNTAX");
    expect(e.message).toMatch(/^syntax error: Expected "\]" but found ":"/);
    expect(e.site).toEqual({ file: join(dir, "syntax/images.ts"), line: 5, column: 12 });
  });

  it("a failed relative import points at the import statement", async () => {
    const e = await failure("import-missing");
    expect(e.code).toBe("IMGC_IMPORT");
    expect(e.message).toBe('cannot import "./does-not-exist.js": no such module or package');
    expect(e.site).toMatchObject({ line: 2, column: 24 });
  });

  it("a missing package is a failed import with an install hint", async () => {
    const e = await failure("import-package");
    expect(e.code).toBe("IMGC_IMPORT");
    expect(e.message).toContain('"@acme/not-installed"');
    expect(e.hint).toMatch(/npm install/);
    expect(e.site).toMatchObject({ line: 2, column: 23 });
  });

  it("a mistyped option is caught at run time too (the schema), at the platform call", async () => {
    const e = await failure("type-error");
    expect(e.code).toBe("IMGC_PLATFORM_OPTION");
    expect(e.message).toBe('docker platform option privileged must be a boolean, got string "yes"');
    expect(e.site).toMatchObject({ line: 5, column: 15 });
  });

  it("plain JavaScript: unknown options get a did-you-mean, mistyped ones the expected type", async () => {
    const e = await failure("plain-js", { file: join(dir, "plain-js/images.js") });
    const errors = all(e);
    const unknown = errors.find((x) => x.code === "IMGC_UNKNOWN_OPTION")!;
    expect(unknown.message).toBe('docker platform has no option "privilegd"');
    expect(unknown.hint).toBe('did you mean "privileged"?');
    expect(unknown.site).toMatchObject({ file: join(dir, "plain-js/images.js"), line: 6, column: 15 });
    const mistyped = errors.find((x) => x.code === "IMGC_PLATFORM_OPTION")!;
    expect(mistyped.message).toBe('docker platform option pull must be a boolean or "missing", got string "always"');
  });

  it("duplicate image names name both declarations", async () => {
    const e = await failure("duplicate");
    expect(e.code).toBe("IMGC_DUPLICATE_IMAGE");
    expect(e.message).toMatch(/^two images are named "web" \(the other is declared at .*duplicate\/images\.ts:4:18\)$/);
    expect(e.site).toMatchObject({ line: 5, column: 18 });
  });

  it("a cycle is reported with its path", async () => {
    const e = await failure("cycle");
    expect(e.code).toBe("IMGC_CYCLE");
    expect(e.message).toBe("dependency cycle: a.docker → b.docker → a.docker");
  });

  it("every missing and invalid variable is reported at once", async () => {
    const e = await failure("vars", { vars: { debug: "maybe" } });
    const errors = all(e);
    expect(errors.map((x) => x.code).sort()).toEqual(["IMGC_VAR_INVALID", "IMGC_VAR_INVALID", "IMGC_VAR_MISSING"]);
    expect(errors.find((x) => x.code === "IMGC_VAR_MISSING")!.message).toBe('variable "count" (number) has no value');
    expect(errors.find((x) => x.code === "IMGC_VAR_MISSING")!.site).toMatchObject({ line: 5, column: 15 });
    const messages = errors.map((x) => x.message);
    expect(messages).toContain('variable "region" from its default is invalid ("mars-1"): "mars-1" is not a region like eu-west-1');
    expect(messages).toContain('variable "debug" from --var debug is invalid ("maybe"): "maybe" is not a boolean (write true or false)');
  });

  it("an unknown --var gets a did-you-mean", async () => {
    const e = await failure("vars", { vars: { count: "2", regoin: "eu-west-1" } });
    const unknown = all(e).find((x) => x.code === "IMGC_VAR_UNKNOWN")!;
    expect(unknown.message).toBe("--var regoin sets a variable the definitions do not declare");
    expect(unknown.hint).toBe("did you mean region?");
  });

  it("a module that exports no image", async () => {
    const e = await failure("no-images");
    expect(e.code).toBe("IMGC_NO_IMAGES");
    expect(e.message).toBe("the definitions file exports no image");
  });

  it("from an image that lacks the platform names both images", async () => {
    const e = await failure("from-platform");
    expect(e.code).toBe("IMGC_FROM_PLATFORM");
    expect(e.message).toBe('image "web" builds from "base" on platform "null", but "base" has no "null" platform (it has "docker")');
    expect(e.site).toMatchObject({ line: 8, column: 41 });
  });

  it("a runtime value in a compile-time field", async () => {
    const e = await failure("compile-time");
    expect(e.code).toBe("IMGC_COMPILE_TIME");
    expect(e.message).toBe('docker platform option platform is decided at compile time, but it was given a secret ("arch"), known only at build time');
  });

  it("an exception while loading points at the user's throw", async () => {
    const e = await failure("eval-throw");
    expect(e.code).toBe("IMGC_EVAL");
    expect(e.message).toBe("the definitions threw while loading: the component is broken");
    expect(e.site).toMatchObject({ file: join(dir, "eval-throw/images.ts"), line: 4, column: 9 });
  });

  it("an artifact reference to a platform the image lacks", async () => {
    const e = await failure("bad-ref");
    expect(e.code).toBe("IMGC_ARTIFACT_REF");
    expect(e.hint).toBe('did you mean "docker"?');
    expect(e.site).toMatchObject({ line: 8, column: 15 });
  });

  it("a missing definitions file", async () => {
    const e = await failure("nope", { file: join(dir, "nope/images.ts") });
    expect(e.code).toBe("IMGC_FILE_NOT_FOUND");
  });
});
