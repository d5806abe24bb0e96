/**
 * `imgc init [dir]`: scaffolds images.ts, tsconfig.json and package.json so an editor type-checks
 * the definitions and shows every option's documentation on hover. Never overwrites a file.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { EXIT } from "../../compiler/diagnostics.js";
import { imgcRoot } from "../../compiler/load.js";
import type { ImgcCommand } from "../command.js";

const IMAGES_TS = `import { image, variable, t } from "imgc";
import { docker } from "imgc/platforms/docker";
import { shell } from "imgc/provisioners";

const version = variable("version", { type: "string", default: "0.1.0", description: "Written into the image" });

export default image("app", {
  platforms: [docker({ image: "debian:12", commit: true })],
  provision: [shell({ inline: [t\`echo \${version} > /etc/app-version\`] })],
});
`;

const TSCONFIG = {
  compilerOptions: {
    target: "ES2022",
    module: "NodeNext",
    moduleResolution: "NodeNext",
    strict: true,
    skipLibCheck: true,
    noEmit: true,
    allowImportingTsExtensions: true,
  },
  include: ["*.ts"],
};

const init: ImgcCommand<{ dir?: string }> = {
  command: "init [dir]",
  describe: "Create images.ts, tsconfig.json and package.json in a directory (default: here)",
  builder: (y) => y.positional("dir", { type: "string", describe: "Where to create the project (default: the working directory)" }),
  async run(args, cli) {
    const dir = resolve(cli.cwd, args.dir ?? ".");
    mkdirSync(dir, { recursive: true });
    const version = JSON.parse(readFileSync(join(imgcRoot, "package.json"), "utf8")).version as string;
    const files: Record<string, string> = {
      "images.ts": IMAGES_TS,
      "tsconfig.json": `${JSON.stringify(TSCONFIG, null, 2)}\n`,
      "package.json": `${JSON.stringify(
        {
          name: basename(dir).toLowerCase().replace(/[^a-z0-9-]/g, "-") || "images",
          private: true,
          type: "module",
          scripts: { validate: "imgc validate", plan: "imgc plan", apply: "imgc apply" },
          dependencies: { imgc: `^${version}` },
          devDependencies: { typescript: "^5.9.0" },
        },
        null,
        2,
      )}\n`,
    };
    const created: string[] = [];
    for (const [name, content] of Object.entries(files)) {
      const path = join(dir, name);
      if (existsSync(path)) {
        cli.err(`kept ${name}: it exists already`);
        continue;
      }
      writeFileSync(path, content);
      created.push(name);
    }
    if (args.json) cli.json({ ok: true, dir, created });
    else {
      for (const name of created) cli.out(`created ${name}`);
      cli.out(`\nNext: npm install, then imgc validate and imgc plan${args.dir ? ` in ${args.dir}` : ""}.`);
    }
    return EXIT.ok;
  },
};
export default init;
