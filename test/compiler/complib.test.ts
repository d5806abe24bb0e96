// A component library installed in the project's own node_modules (as TypeScript), shipping a
// script and a config file beside its code: they are found through import.meta.url and through
// a relative path resolved against the library's file, hashed by content, and a type check of
// the project passes.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileProject } from "../../compiler/index.js";
import { typecheck } from "../../compiler/typecheck.js";

const dir = join(import.meta.dirname, "../fixtures/complib");
const lib = join(dir, "node_modules/@acme/imgc-nginx");

describe("component library in node_modules", () => {
  it("uploads the files it ships, resolved against the library, hashed by content", async () => {
    const { graph } = await compileProject({ file: join(dir, "images.ts"), env: {} });
    const [n] = graph.nodes;
    expect(n!.id).toBe("web.docker");
    const [setup, conf, confDefault, local] = n!.provision;
    expect(setup!.type).toBe("shell");
    expect(setup!.options).toMatchObject({
      scripts: [{ $path: join(lib, "files/setup.sh"), rel: "node_modules/@acme/imgc-nginx/files/setup.sh", type: "file", digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) }],
      env: { PORT: "8080" },
    });
    expect(conf!.options).toMatchObject({ source: { $path: join(lib, "files/nginx.conf"), rel: "node_modules/@acme/imgc-nginx/files/nginx.conf" } });
    expect(confDefault!.options).toMatchObject({ source: { $path: join(lib, "files/nginx.conf") } });
    expect(local!.options).toMatchObject({ scripts: [{ $path: join(dir, "local.sh"), rel: "local.sh" }] });
    // Sites of the library's provisioners are in the library's own file, in original positions.
    expect(setup!.site).toEqual({ file: join(lib, "index.ts"), line: 15, column: 5 });
    expect(local!.site).toMatchObject({ file: join(dir, "images.ts"), line: 8 });
  });

  it("type-checks the project without reporting the library's files", () => {
    const result = typecheck(join(dir, "images.ts"));
    expect(result.errors).toEqual([]);
    expect(result.files).toBe(1);
  });
});
