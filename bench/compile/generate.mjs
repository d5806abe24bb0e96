#!/usr/bin/env node
// Generates a compile benchmark project of N images (default 1000) under bench/out/compile-N/:
//   - images/part-K.ts: 100 images per module; every image builds on 3 platforms (docker, null,
//     and "benchvm", a plugin-style platform the project registers itself with definePlatform);
//   - 5 provisioners per image, one of them uploading the image's own local file (files/img-I.txt);
//   - `from` chains of depth up to 5 (image I builds from image I-1 unless I % 5 == 0);
//   - packer.json: the equivalent Packer JSON template (3 builders per image: docker, null and
//     file; 5 provisioners per image restricted with `only` to that image's builds). Packer has
//     no image-to-image edges, so the chains have no equivalent there.
// Usage: node bench/compile/generate.mjs [N]   (prints the project directory)
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const n = Number(process.argv[2] ?? 1000);
const repo = resolve(import.meta.dirname, "../..");
const dir = join(repo, "bench/out", `compile-${n}`);
const PER_MODULE = 100;
rmSync(dir, { recursive: true, force: true });
mkdirSync(join(dir, "images"), { recursive: true });
mkdirSync(join(dir, "files"), { recursive: true });

writeFileSync(
  join(dir, "tsconfig.json"),
  JSON.stringify({ compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, skipLibCheck: true, noEmit: true, allowImportingTsExtensions: true, types: [] }, include: ["**/*.ts"] }, null, 2),
);
writeFileSync(
  join(dir, "benchvm.ts"),
  `// A third-party platform, defined the way a plugin package defines its own.
import { definePlatform, isRef, type Input } from "imgc";
import { z } from "zod";

/** Options of the benchvm platform. */
export interface BenchVmOptions {
  /** Base image name. */
  readonly baseImage: Input<string>;
  /** Memory in MiB. @default 256 */
  readonly memory?: number;
  /** CPU count. @default 1 */
  readonly cpus?: number;
}

/** A benchvm build (the driver module is never loaded by plan or validate). */
export const benchvm = definePlatform<"benchvm", BenchVmOptions>({
  type: "benchvm",
  driver: "./benchvm-driver.js",
  version: 1,
  schema: z.strictObject({
    baseImage: z.union([z.string(), z.custom((x) => isRef(x))]),
    memory: z.number().int().positive().optional(),
    cpus: z.number().int().positive().optional(),
  }),
});
`,
);
writeFileSync(join(dir, "vars.ts"), `import { variable } from "imgc";\n/** Release written into every image. */\nexport const release = variable("release", { type: "string", default: "2024.1" });\n`);

const modules = Math.ceil(n / PER_MODULE);
for (let m = 0; m < modules; m++) {
  const lines = [
    `import { image, t, type Image } from "imgc";`,
    `import { docker } from "imgc/platforms/docker";`,
    `import { nullHost } from "imgc/platforms/null";`,
    `import { shell, file } from "imgc/provisioners";`,
    `import { benchvm } from "../benchvm.ts";`,
    `import { release } from "../vars.ts";`,
    ``,
    `export const images: Image[] = [];`,
    `let previous: Image | undefined;`,
  ];
  for (let i = m * PER_MODULE; i < Math.min(n, (m + 1) * PER_MODULE); i++) {
    writeFileSync(join(dir, "files", `img-${i}.txt`), `payload of image ${i}\n`);
    const root = i % 5 === 0;
    const platforms = `platforms: [docker({ image: "bench/base:1", commit: true, network: "none" }), nullHost({ ssh: { host: "10.0.${i % 250}.${(i % 200) + 1}", username: "admin" } }), benchvm({ baseImage: "base-${i % 7}", memory: 512 })],`;
    lines.push(
      `previous = image("img-${i}", {`,
      root ? `  ${platforms}` : `  from: previous!,`,
      `  provision: [`,
      `    shell({ inline: ["echo provisioning img-${i}", "mkdir -p /opt/img-${i}"] }),`,
      `    shell({ inline: [t\`echo \${release} > /opt/img-${i}/release\`] }),`,
      `    file.upload("../files/img-${i}.txt", "/opt/img-${i}/payload.txt"),`,
      `    file.content("img-${i}", "/etc/img-${i}.name"),`,
      `    shell({ inline: ["test -f /opt/img-${i}/payload.txt"], env: { IMAGE: "img-${i}" } }),`,
      `  ],`,
      `});`,
      `images.push(previous);`,
    );
  }
  writeFileSync(join(dir, "images", `part-${m}.ts`), `${lines.join("\n")}\n`);
}
const imports = Array.from({ length: modules }, (_, m) => `import { images as part${m} } from "./images/part-${m}.ts";`);
writeFileSync(join(dir, "images.ts"), `${imports.join("\n")}\n\nexport default [${Array.from({ length: modules }, (_, m) => `...part${m}`).join(", ")}];\n`);

// The equivalent Packer JSON template.
const builders = [];
const provisioners = [];
for (let i = 0; i < n; i++) {
  const names = [`img-${i}.docker`, `img-${i}.null`, `img-${i}.file`];
  builders.push(
    { name: names[0], type: "docker", image: "bench/base:1", commit: true },
    { name: names[1], type: "null", communicator: "ssh", ssh_host: `10.0.${i % 250}.${(i % 200) + 1}`, ssh_username: "admin", ssh_password: "bench" },
    { name: names[2], type: "file", content: `base-${i % 7}`, target: `out/img-${i}.txt` },
  );
  provisioners.push(
    { type: "shell", only: names, inline: [`echo provisioning img-${i}`, `mkdir -p /opt/img-${i}`] },
    { type: "shell", only: names, inline: [`echo {{user \`release\`}} > /opt/img-${i}/release`] },
    { type: "file", only: names, source: `files/img-${i}.txt`, destination: `/opt/img-${i}/payload.txt` },
    // Packer 1.6.6's file provisioner has no inline content: the shell equivalent.
    { type: "shell", only: names, inline: [`echo img-${i} > /etc/img-${i}.name`] },
    { type: "shell", only: names, inline: [`test -f /opt/img-${i}/payload.txt`], environment_vars: [`IMAGE=img-${i}`] },
  );
}
writeFileSync(join(dir, "packer.json"), JSON.stringify({ variables: { release: "2024.1" }, builders, provisioners }, null, 1));
process.stdout.write(`${dir}\n`);
