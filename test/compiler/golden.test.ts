// Golden IR of every example: examples/<name>/images.ts compiles to test/compiler/goldens/<name>.ir.json
// (paths under the repository written as <repo>). An example that needs variable values gets
// them from test/compiler/goldens/<name>.vars.json (or its own examples/<name>/vars.json). Regenerate after an intended change with:
//   IMGC_UPDATE_GOLDEN=1 npx vitest run test/compiler/golden.test.ts
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { compileProject } from "../../compiler/index.js";
import { tinyVm } from "../vm/paths.js";

const repo = resolve(import.meta.dirname, "../..");
const goldens = join(import.meta.dirname, "goldens");
const examples = readdirSync(join(repo, "examples"), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(repo, "examples", d.name, "images.ts")))
  .map((d) => d.name)
  .sort();

// The QEMU examples build on the project's test VM, made on each machine from Debian packages:
// its files' bytes (and so their digests and every key above them) differ from one machine to
// the next. The VM is made here (cached), the qemu example is pointed at it as its own test
// does, and hashes are masked in the goldens of examples that read it; the rest is compared.
let vmDir = "";
beforeAll(async () => {
  vmDir = dirname((await tinyVm()).disk);
  process.env.IMGC_QEMU_EXAMPLE_VM = vmDir;
});
const HASH = /sha256:[0-9a-f]{64}/g;

describe("golden IR of every example", () => {
  it("there is at least the basic example", () => {
    expect(examples).toContain("basic");
  });

  for (const name of examples) {
    it(`examples/${name}`, async () => {
      const dir = join(repo, "examples", name);
      // Variable values for examples that require some: goldens/<name>.vars.json, else the example's vars.json.
      const varFile = [join(goldens, `${name}.vars.json`), join(dir, "vars.json")].find((f) => existsSync(f));
      const { graph } = await compileProject({ file: join(dir, "images.ts"), env: {}, cwd: dir, varFiles: varFile ? [varFile] : [] });
      // The driver's resolved URL depends on what is built; its specifier and version are kept.
      const stable = { ...graph, nodes: graph.nodes.map((n) => ({ ...n, driver: { ...n.driver, url: "<resolved at compile time>" } })) };
      let text = `${JSON.stringify(stable, null, 2).split(vmDir).join("<test vm>").split(repo).join("<repo>")}\n`;
      if (text.includes("test/.cache/vm/") || text.includes("<test vm>")) text = text.replace(HASH, "sha256:<depends on the test VM built here>");
      const golden = join(goldens, `${name}.ir.json`);
      if (process.env.IMGC_UPDATE_GOLDEN || !existsSync(golden)) {
        mkdirSync(goldens, { recursive: true });
        writeFileSync(golden, text);
        if (!process.env.IMGC_UPDATE_GOLDEN) throw new Error(`wrote the missing golden ${golden}: review and commit it`);
      }
      expect(text).toBe(readFileSync(golden, "utf8"));
    });
  }
});
