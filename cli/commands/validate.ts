/**
 * `imgc validate [file]`: the real TypeScript checker (the project's tsconfig.json, or a strict
 * default) plus every compiler check (variables, platform options, graph, cycles). Prints every
 * problem at `file:line:col`; exit 1 when there is any.
 */
import { resolve } from "node:path";
import { combineErrors, EXIT, isImgcError, type ImgcError } from "../../compiler/diagnostics.js";
import type { ImgcCommand } from "../command.js";
import { reportFailure } from "../command.js";

const validate: ImgcCommand<{ typecheck: boolean }> = {
  command: "validate [file]",
  describe: "Type-check the definitions and run every compiler check",
  builder: (y) => y.option("typecheck", { type: "boolean", default: true, describe: "Run the TypeScript checker (--no-typecheck skips it)" }),
  async run(args, cli) {
    const file = resolve(cli.cwd, args.file);
    const problems: ImgcError[] = [];
    let checked = 0;
    // The compile runs first: a missing file or a syntax error makes the type check moot.
    let nodes = 0;
    try {
      nodes = (await cli.compile(args)).graph.nodes.length;
    } catch (error) {
      if (!isImgcError(error)) throw error;
      if (error.code === "IMGC_FILE_NOT_FOUND" || error.code === "IMGC_SYNTAX") return reportFailure(error, cli, args);
      problems.push(...(error.related.length ? error.related : [error]));
    }
    if (args.typecheck) {
      const { typecheck } = await import("../../compiler/typecheck.js");
      const result = typecheck(file);
      checked = result.files;
      // Type errors first: they usually explain the compiler's complaints.
      problems.unshift(...result.errors);
    }
    if (problems.length) return reportFailure(combineErrors(dedupe(problems)), cli, args);
    if (args.json) cli.json({ ok: true, nodes, typeChecked: checked });
    else cli.out(`The definitions are valid: ${nodes} node${nodes === 1 ? "" : "s"}${args.typecheck ? `, ${checked} file${checked === 1 ? "" : "s"} type-checked` : ""}.`);
    return EXIT.ok;
  },
};

/** A type error and a compiler error at the same place say the same thing: keep the first. */
function dedupe(errors: ImgcError[]): ImgcError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const k = e.site ? `${e.site.file}:${e.site.line}` : `${e.code}:${e.message}`;
    if (e.code !== "IMGC_TYPE" && e.site && seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
export default validate;
