/** `imgc graph [file] --format json|dot|mermaid`: prints the build graph (the IR as JSON, or a drawing). */
import { EXIT } from "../../compiler/diagnostics.js";
import type { ImgcCommand } from "../command.js";
import { toDot, toMermaid } from "../render-graph.js";

const graph: ImgcCommand<{ format: "json" | "dot" | "mermaid" }> = {
  command: "graph [file]",
  describe: "Print the build graph: the IR as JSON, or a DOT / Mermaid drawing",
  builder: (y) => y.option("format", { choices: ["json", "dot", "mermaid"] as const, default: "json", describe: "Output format" }),
  async run(args, cli) {
    const { graph: g } = await cli.compile(args);
    if (args.format === "json" || args.json) cli.json(g);
    else cli.out(args.format === "dot" ? toDot(g) : toMermaid(g));
    return EXIT.ok;
  },
};
export default graph;
