// Unit tests of the compiler's pure parts: canonical JSON, variable parsing, folding, cycle naming, selection.
import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../compiler/hash.js";
import { parseVariableString, checkValue } from "../../compiler/variables.js";
import { applyFn, foldExpr, type FoldContext } from "../../compiler/fold.js";
import { topoSort, type DraftNode } from "../../compiler/graph.js";
import { didYouMean, formatError, ImgcError } from "../../compiler/diagnostics.js";
import { unknownSite } from "../../lang/site.js";

const ctx = (vars: Record<string, unknown> = {}, sensitive: string[] = []): FoldContext => ({
  vars: new Map(Object.entries(vars)) as FoldContext["vars"],
  sensitive: new Set(sensitive),
  env: { A: "a" },
  root: "/",
  digests: new Map(),
  errors: [],
});

describe("compiler units", () => {
  it("canonical JSON sorts keys, drops undefined, normalises -0", () => {
    expect(canonicalJson({ b: 1, a: [{ d: -0, c: "x" }], u: undefined } as never)).toBe('{"a":[{"c":"x","d":0}],"b":1}');
  });

  it("parses command-line strings to the declared type", () => {
    expect(parseVariableString("number", "42")).toEqual({ value: 42 });
    expect(parseVariableString("number", "")).toEqual({ error: '"" is not a number' });
    expect(parseVariableString("boolean", "yes")).toEqual({ value: true });
    expect(parseVariableString("list", '["a","b"]')).toEqual({ value: ["a", "b"] });
    expect(parseVariableString("list", "a, b")).toEqual({ value: ["a", "b"] });
    expect(parseVariableString("map", "k=v,x=y")).toEqual({ value: { k: "v", x: "y" } });
    expect(parseVariableString("map", "nope")).toHaveProperty("error");
    expect(checkValue("list", [1])).toEqual({ error: "expected a list of strings, got list [1]" });
  });

  it("folds known parts and keeps runtime refs", () => {
    const e = foldExpr({ kind: "template", parts: ["v", { kind: "var", name: "x" }, "-", { kind: "secret", name: "s" }] }, ctx({ x: 1 }), unknownSite);
    expect(e).toEqual({ known: false, expr: { kind: "template", parts: ["v1-", { kind: "secret", name: "s" }] } });
    expect(foldExpr({ kind: "var", name: "p" }, ctx({ p: "pw" }, ["p"]), unknownSite)).toEqual({ known: false, expr: { kind: "var", name: "p" } });
    expect(foldExpr({ kind: "env", name: "A" }, ctx(), unknownSite)).toEqual({ known: true, value: "a" });
    expect(applyFn("replace", ["a-b-c", "-", "+"])).toBe("a+b+c");
    expect(applyFn("join", [["a", "b"], ","])).toBe("a,b");
  });

  it("orders by dependencies with ties by id, and names a cycle's path", () => {
    const n = (id: string, deps: string[]): DraftNode => ({ id, deps: new Set(deps), meta: { site: unknownSite } }) as unknown as DraftNode;
    const errors: ImgcError[] = [];
    expect(topoSort([n("c", []), n("b", ["c"]), n("a", [])], errors).map((x) => x.id)).toEqual(["a", "c", "b"]);
    topoSort([n("x", ["y"]), n("y", ["z"]), n("z", ["x"]), n("w", [])], errors);
    expect(errors.map((e) => e.message)).toEqual(["dependency cycle: x → y → z → x"]);
  });

  it("formats errors with site and hint, without stacks unless debug", () => {
    const e = new ImgcError({ code: "IMGC_X", message: "it broke", site: { file: "/p/images.ts", line: 3, column: 7 }, hint: "fix it" });
    expect(formatError(e, { cwd: "/p" })).toBe("images.ts:3:7: error IMGC_X: it broke\n  hint: fix it");
    expect(formatError(e, { cwd: "/p", debug: true })).toMatch(/\n\s+ImgcError: it broke\n\s+at /);
    expect(formatError(new Error("boom"))).toMatch(/^internal error: boom\n  hint: this is a bug/);
    expect(didYouMean("privilegd", ["privileged", "platform"])).toBe("privileged");
    expect(didYouMean("zzz", ["privileged"])).toBeUndefined();
  });
});
