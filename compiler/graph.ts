/**
 * Builds the graph's nodes: one per image × platform, id `<image>.<platform name>`. Edges come
 * from `from` (per platform), `dependsOn` (every node of the other image) and artifact
 * references found anywhere in a node's options. Platform options are checked with the
 * platform's schema from the registry. Cycles are reported with their path; nodes are put in a
 * topological order (dependencies first, ties broken by id).
 */
import type { Image } from "../lang/image.js";
import { platformRegistry, type PlatformSpec } from "../lang/platform.js";
import type { PostProcessorSpec } from "../lang/post-processor.js";
import type { ProvisionerSpec } from "../lang/provisioner.js";
import type { SourceSite } from "../lang/site.js";
import type { Expr, Json } from "../lang/values.js";
import { ImgcError, didYouMean } from "./diagnostics.js";
import { resolveDriverUrl } from "./driver-url.js";
import { foldForCheck, toIr, type FoldContext } from "./fold.js";
import type { IrSource, IrStep } from "./ir.js";
import { mapSite } from "./load.js";
import { checkOptions } from "./schema-check.js";

/** A node before hashing. */
export interface DraftNode {
  id: string;
  image: string;
  platform: string;
  type: string;
  driver: { module: string; url: string; version: number };
  source: IrSource;
  config: Json;
  provision: IrStep[];
  errorCleanup?: IrStep;
  post: IrStep[];
  deps: Set<string>;
  meta: { site: SourceSite; description?: string };
}

/** The platforms an image builds on: its own, or (with `from` and none of its own) its upstream's. */
export function platformsOf(img: Image, seen = new Set<Image>()): readonly PlatformSpec[] {
  if (img.platforms.length || !img.from) return img.platforms;
  if (seen.has(img)) return [];
  seen.add(img);
  return platformsOf(img.from, seen);
}

/** Makes the draft nodes of every image; problems go to `ctx.errors`. */
export function buildNodes(images: readonly Image[], ctx: FoldContext, definitionsFile: string): DraftNode[] {
  const nodes: DraftNode[] = [];
  const byId = new Map<string, DraftNode>();
  const registry = platformRegistry();
  const checkedSpecs = new Map<PlatformSpec, Json>();

  for (const img of images) {
    const imgSite = mapSite(img.site);
    const own = img.platforms.length > 0;
    const platforms = platformsOf(img);
    if (platforms.length === 0) {
      ctx.errors.push(new ImgcError({ code: "IMGC_FROM_PLATFORM", message: `image "${img.name}" has no platform`, site: imgSite, hint: "give it platforms: [docker({...})], or from: another image to build on its platforms" }));
      continue;
    }
    const upstreamPlatforms = img.from ? new Set(platformsOf(img.from).map((p) => p.name)) : undefined;
    for (const spec of platforms) {
      const id = `${img.name}.${spec.name}`;
      const specSite = mapSite(spec.site);
      if (byId.has(id)) {
        ctx.errors.push(new ImgcError({ code: "IMGC_DUPLICATE_NODE", message: `image "${img.name}" has two platforms named "${spec.name}"`, site: specSite, hint: `give one of them another name: ${spec.type}({ name: "${spec.name}-2", … })` }));
        continue;
      }
      if (img.from && upstreamPlatforms && !upstreamPlatforms.has(spec.name)) {
        ctx.errors.push(
          new ImgcError({
            code: "IMGC_FROM_PLATFORM",
            message: `image "${img.name}" builds from "${img.from.name}" on platform "${spec.name}", but "${img.from.name}" has no "${spec.name}" platform (it has ${[...upstreamPlatforms].map((p) => `"${p}"`).join(", ") || "none"})`,
            site: specSite,
            hint: `add a "${spec.name}" platform to "${img.from.name}", or drop it from "${img.name}"`,
          }),
        );
        continue;
      }
      // Platform options: schema check (own platforms only; inherited ones were checked on the upstream).
      const definition = registry.get(spec.type);
      let config = checkedSpecs.get(spec);
      if (config === undefined) {
        if (!definition) {
          ctx.errors.push(
            new ImgcError({
              code: "IMGC_UNKNOWN_PLATFORM",
              message: `platform type "${spec.type}" is not registered`,
              site: specSite,
              hint: "import its factory (e.g. from \"imgc/platforms/<name>\" or the plugin package) so definePlatform runs",
            }),
          );
        } else if (definition.schema) {
          const checked = foldForCheck(spec.options, ctx, spec.site);
          ctx.errors.push(...checkOptions(definition.schema, checked, specSite, `${spec.type} platform`));
        }
        config = toIr(spec.options, ctx, spec.site, "", "input") ?? {};
        checkedSpecs.set(spec, config);
      }
      const source: IrSource = img.from ? { kind: "image", node: `${img.from.name}.${spec.name}` } : { kind: "base" };
      const node: DraftNode = {
        id,
        image: img.name,
        platform: spec.name,
        type: spec.type,
        driver: { module: spec.driver, url: resolveDriverUrl(spec.driver, definitionsFile), version: spec.driverVersion },
        source,
        config,
        provision: [],
        post: [],
        deps: new Set(source.kind === "image" ? [source.node] : []),
        meta: { site: own ? specSite : imgSite, ...(img.description ? { description: img.description } : {}) },
      };
      for (const p of img.provision) {
        if (!applies(p, spec.name)) continue;
        const step = toStep(p, ctx, "provision");
        if (p.errorCleanup) {
          if (node.errorCleanup) ctx.errors.push(new ImgcError({ code: "IMGC_STEP", message: `image "${img.name}" has more than one errorCleanup provisioner`, site: mapSite(p.site), hint: "keep one errorCleanup(...) per image (as Packer's error-cleanup-provisioner)" }));
          node.errorCleanup = step;
        } else node.provision.push(step);
      }
      for (const p of img.post) if (applies(p, spec.name)) node.post.push(toStep(p, ctx, "post"));
      nodes.push(node);
      byId.set(id, node);
    }
  }

  // dependsOn: every node of the other image.
  const nodesOfImage = new Map<string, string[]>();
  for (const n of nodes) nodesOfImage.set(n.image, [...(nodesOfImage.get(n.image) ?? []), n.id]);
  for (const img of images) {
    for (const dep of img.dependsOn) for (const n of nodes) if (n.image === img.name) for (const d of nodesOfImage.get(dep.name) ?? []) n.deps.add(d);
  }
  // Artifact references anywhere in a node's options.
  for (const n of nodes) {
    const refs: { image: string; platform: string; site: SourceSite }[] = [];
    collectArtifactRefs(n.config, n.meta.site, refs);
    for (const s of [...n.provision, ...(n.errorCleanup ? [n.errorCleanup] : []), ...n.post]) collectArtifactRefs(s.options, s.site, refs);
    for (const r of refs) {
      const target = `${r.image}.${r.platform}`;
      if (!byId.has(target)) {
        const candidates = nodesOfImage.get(r.image);
        ctx.errors.push(
          new ImgcError({
            code: "IMGC_ARTIFACT_REF",
            message: candidates
              ? `${n.id} refers to ${r.image}.artifact("${r.platform}"), but image "${r.image}" has no platform "${r.platform}"`
              : `${n.id} refers to the artifact of image "${r.image}", which is not part of the project`,
            site: r.site,
            hint: candidates ? artifactHint(r.platform, candidates.map((c) => c.slice(r.image.length + 1))) : `export "${r.image}" from the definitions (or reach it through from/dependsOn)`,
          }),
        );
        continue;
      }
      if (target !== n.id) n.deps.add(target);
    }
  }
  return nodes;
}

function artifactHint(platform: string, platforms: string[]): string {
  const guess = didYouMean(platform, platforms);
  return guess ? `did you mean "${guess}"?` : `its platforms: ${platforms.join(", ")}`;
}

function applies(step: ProvisionerSpec | PostProcessorSpec, platform: string): boolean {
  if (step.only && !step.only.includes(platform)) return false;
  if (step.except && step.except.includes(platform)) return false;
  return true;
}

/** Per-step IR, cached per spec object: one provisioner shared by 3 platforms is converted once. */
const stepCaches = new WeakMap<FoldContext, WeakMap<object, IrStep>>();

function toStep(spec: ProvisionerSpec | PostProcessorSpec, ctx: FoldContext, kind: "provision" | "post"): IrStep {
  let cache = stepCaches.get(ctx);
  if (!cache) stepCaches.set(ctx, (cache = new WeakMap()));
  const hit = cache.get(spec);
  if (hit) return hit;
  const site = mapSite(spec.site);
  const options = spec.options as Record<string, unknown>;
  // Post-processor paths are outputs; so is a download's destination.
  const role = kind === "post" ? "output" : "input";
  let ir: Json | undefined;
  if (kind === "provision" && spec.type === "file" && options?.direction === "download") {
    const { destination, ...rest } = options;
    ir = { ...(toIr(rest, ctx, spec.site, spec.type) as Record<string, Json>), ...(destination !== undefined ? { destination: toIr(destination, ctx, spec.site, `${spec.type}.destination`, "output")! } : {}) };
  } else ir = toIr(options, ctx, spec.site, spec.type, role);
  if (kind === "provision" && spec.type === "shell") {
    const o = options as { inline?: unknown; scripts?: unknown[] };
    if (!o.inline && !(o.scripts && o.scripts.length)) {
      ctx.errors.push(new ImgcError({ code: "IMGC_STEP", message: "shell needs one of inline, script or scripts", site, hint: 'e.g. shell({ inline: ["apt-get update"] })' }));
    }
  }
  const step: IrStep = { type: spec.type, options: ir ?? {}, site };
  cache.set(spec, step);
  return step;
}

function collectArtifactRefs(value: Json, site: SourceSite, out: { image: string; platform: string; site: SourceSite }[]): void {
  if (Array.isArray(value)) value.forEach((v) => collectArtifactRefs(v as Json, site, out));
  else if (value && typeof value === "object") {
    if ("$ref" in value) collectFromExpr(value.$ref as unknown as Expr, site, out);
    else if (!("$path" in value)) for (const v of Object.values(value)) collectArtifactRefs(v, site, out);
  }
}

function collectFromExpr(e: Expr, site: SourceSite, out: { image: string; platform: string; site: SourceSite }[]): void {
  if (e.kind === "artifact") {
    out.push({ image: e.image, platform: e.platform, site });
  } else if (e.kind === "template") {
    for (const p of e.parts) if (typeof p === "object") collectFromExpr(p, site, out);
  } else if (e.kind === "fn") {
    for (const a of e.args) if (a && typeof a === "object" && !Array.isArray(a) && "kind" in a) collectFromExpr(a as unknown as Expr, site, out);
  }
}

/**
 * Orders nodes dependencies-first (ties by id) and reports cycles with their path
 * (`a.docker → b.docker → a.docker`). Unknown dependencies (already reported) are ignored.
 */
export function topoSort(nodes: readonly DraftNode[], errors: ImgcError[]): DraftNode[] {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const indegree = new Map<string, number>();
  const dependants = new Map<string, string[]>();
  for (const n of nodes) {
    let count = 0;
    for (const d of n.deps) {
      if (!byId.has(d)) continue;
      count++;
      const list = dependants.get(d);
      if (list) list.push(n.id);
      else dependants.set(d, [n.id]);
    }
    indegree.set(n.id, count);
  }
  const heap = new MinHeap();
  for (const n of nodes) if (indegree.get(n.id) === 0) heap.push(n.id);
  const order: DraftNode[] = [];
  while (heap.size) {
    const id = heap.pop()!;
    order.push(byId.get(id)!);
    for (const m of dependants.get(id) ?? []) {
      const left = indegree.get(m)! - 1;
      indegree.set(m, left);
      if (left === 0) heap.push(m);
    }
  }
  if (order.length < nodes.length) {
    const remaining = new Set(nodes.filter((n) => indegree.get(n.id)! > 0).map((n) => n.id));
    for (const cycle of findCycles(remaining, byId)) {
      const first = byId.get(cycle[0]!)!;
      errors.push(
        new ImgcError({
          code: "IMGC_CYCLE",
          message: `dependency cycle: ${[...cycle, cycle[0]].join(" → ")}`,
          site: first.meta.site,
          hint: "an image cannot depend on itself through from, dependsOn or artifact references: remove one of these edges",
        }),
      );
    }
  }
  return order;
}

/** One cycle per strongly connected group among `remaining`, each as a path of ids. */
function findCycles(remaining: Set<string>, byId: Map<string, DraftNode>): string[][] {
  const cycles: string[][] = [];
  const done = new Set<string>();
  for (const start of [...remaining].sort()) {
    if (done.has(start)) continue;
    // Walk deps inside `remaining` until a node repeats: that suffix is a cycle.
    const path: string[] = [];
    const index = new Map<string, number>();
    let cur: string | undefined = start;
    while (cur !== undefined && !index.has(cur) && !done.has(cur)) {
      index.set(cur, path.length);
      path.push(cur);
      cur = [...byId.get(cur)!.deps].filter((d) => remaining.has(d)).sort()[0];
    }
    path.forEach((p) => done.add(p));
    if (cur !== undefined && index.has(cur)) {
      const cycle = path.slice(index.get(cur)!);
      // The walk follows deps (a needs b); print in "a → b" = "a depends on b" order.
      cycles.push(cycle);
    }
  }
  return cycles;
}

class MinHeap {
  private items: string[] = [];
  get size(): number {
    return this.items.length;
  }
  push(x: string): void {
    const a = this.items;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]! <= a[i]!) break;
      [a[p], a[i]] = [a[i]!, a[p]!];
      i = p;
    }
  }
  pop(): string | undefined {
    const a = this.items;
    if (!a.length) return undefined;
    const top = a[0];
    const last = a.pop()!;
    if (a.length) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l]! < a[m]!) m = l;
        if (r < a.length && a[r]! < a[m]!) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
      }
    }
    return top;
  }
}
