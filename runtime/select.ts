/**
 * `--only` / `--except`: globs (picomatch) matched against node ids (`web.docker`) and image
 * names (`web`), so `--only web` and `--only '*.docker'` both work.
 */
import type { GraphNode } from "../compiler/ir.js";

/** Which nodes an apply (or destroy) works on. */
export interface Selection {
  readonly only?: readonly string[];
  readonly except?: readonly string[];
}

/** The nodes selected, in their order; throws when a glob matches nothing (a typo must not build everything or nothing silently). */
export async function selectNodes<N extends Pick<GraphNode, "id" | "image">>(nodes: readonly N[], selection: Selection): Promise<N[]> {
  const only = selection.only?.filter(Boolean) ?? [];
  const except = selection.except?.filter(Boolean) ?? [];
  if (only.length === 0 && except.length === 0) return [...nodes];
  const { default: picomatch } = await import("picomatch");
  const matcher = (globs: readonly string[]): ((n: N) => boolean) => {
    const tests = globs.map((g) => ({ glob: g, test: picomatch(g, { dot: true }) }));
    return (n) => tests.some((t) => t.test(n.id) || t.test(n.image));
  };
  for (const [flag, globs] of [["--only", only], ["--except", except]] as const) {
    for (const glob of globs) {
      const m = matcher([glob]);
      if (!nodes.some(m)) throw new Error(`${flag} ${glob} matches no node; nodes are: ${nodes.map((n) => n.id).join(", ") || "(none)"}`);
    }
  }
  const inOnly = only.length ? matcher(only) : () => true;
  const inExcept = except.length ? matcher(except) : () => false;
  return nodes.filter((n) => inOnly(n) && !inExcept(n));
}
