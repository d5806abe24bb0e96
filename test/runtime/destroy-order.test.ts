import { describe, expect, it } from "vitest";
import { dependentsFirst } from "../../runtime/destroy.js";

const entry = (id: string, inputs: Record<string, string> = {}) => ({ id, rec: { inputs } });

describe("destroy order", () => {
  it("puts every node before the nodes it was built from, whatever the state file's order", () => {
    const order = dependentsFirst([
      entry("base.docker"),
      entry("other.docker"),
      entry("app.docker", { "base.docker": "sha256:b" }),
      entry("web.docker", { "app.docker": "sha256:a", "base.docker": "sha256:b" }),
    ]).map((e) => e.id);
    expect(order.indexOf("web.docker")).toBeLessThan(order.indexOf("app.docker"));
    expect(order.indexOf("app.docker")).toBeLessThan(order.indexOf("base.docker"));
    expect(order).toHaveLength(4);
    expect(order).toContain("other.docker");
  });

  it("ignores inputs that are not in the selection", () => {
    expect(dependentsFirst([entry("app.docker", { "gone.docker": "x" })]).map((e) => e.id)).toEqual(["app.docker"]);
  });
});
