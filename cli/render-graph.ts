/** Renders a build graph as Graphviz DOT or a Mermaid flowchart (edges point from a dependency to its dependant). */
import type { BuildGraph } from "../compiler/ir.js";

function dotId(id: string): string {
  return JSON.stringify(id);
}

/** Graphviz DOT: `imgc graph --format dot | dot -Tsvg`. */
export function toDot(graph: BuildGraph): string {
  const lines = ["digraph imgc {", "  rankdir=LR;", '  node [shape=box, fontname="monospace"];'];
  for (const n of graph.nodes) lines.push(`  ${dotId(n.id)} [label=${JSON.stringify(`${n.id}\n${n.type} ${n.key.slice(7, 19)}`)}];`);
  for (const n of graph.nodes) for (const d of n.deps) lines.push(`  ${dotId(d)} -> ${dotId(n.id)}${n.source.kind === "image" && n.source.node === d ? " [label=\"from\"]" : ""};`);
  lines.push("}");
  return lines.join("\n");
}

/** A Mermaid flowchart (renders in GitHub markdown). */
export function toMermaid(graph: BuildGraph): string {
  const ids = new Map(graph.nodes.map((n, i) => [n.id, `n${i}`]));
  const lines = ["flowchart LR"];
  for (const n of graph.nodes) lines.push(`  ${ids.get(n.id)}["${n.id}<br/>${n.type}"]`);
  for (const n of graph.nodes) {
    for (const d of n.deps) {
      if (!ids.has(d)) continue;
      lines.push(`  ${ids.get(d)} -->${n.source.kind === "image" && n.source.node === d ? "|from|" : ""} ${ids.get(n.id)}`);
    }
  }
  return lines.join("\n");
}
