/**
 * The EC2 Query protocol's wire format: requests are form-encoded flat keys
 * (`Filter.1.Value.2=x`), responses are XML with lists as `<item>` elements, errors are
 * `<Response><Errors><Error>…`.
 */
import { create } from "xmlbuilder2";

/** A decoded request parameter tree: `Filter.1.Name` becomes `{ Filter: [{ Name }] }`. */
export type Params = { [key: string]: Param };
export type Param = string | Params | Param[];

/** Decodes a form body into a tree, turning numbered segments into arrays (1-based, in order). */
export function parseQuery(body: string): Params {
  const root: Params = {};
  for (const [key, value] of new URLSearchParams(body)) {
    const parts = key.split(".");
    let node: Params = root;
    parts.forEach((part, i) => {
      if (i === parts.length - 1) node[part] = value;
      else node = (node[part] ??= {}) as Params;
    });
  }
  return listify(root) as Params;
}

function listify(node: Param): Param {
  if (typeof node === "string" || Array.isArray(node)) return node;
  const keys = Object.keys(node);
  if (keys.length > 0 && keys.every((k) => /^\d+$/.test(k))) {
    return keys.sort((a, b) => Number(a) - Number(b)).map((k) => listify(node[k]!));
  }
  return Object.fromEntries(keys.map((k) => [k, listify(node[k]!)]));
}

/** Reads a list parameter (`ImageId.1`, `ImageId.2`…) as strings. */
export function list(p: Param | undefined): string[] {
  if (p === undefined) return [];
  if (Array.isArray(p)) return p.map((x) => String(x));
  return [String(p)];
}

/** Reads a list of structures (`Filter.1.Name`…). */
export function structs(p: Param | undefined): Params[] {
  if (p === undefined) return [];
  return (Array.isArray(p) ? p : [p]) as Params[];
}

/** Reads a string parameter. */
export function str(p: Param | undefined): string | undefined {
  return typeof p === "string" ? p : undefined;
}

/** XML value: lists become `<item>` sequences; `undefined` fields are left out. */
export type XmlValue = string | number | boolean | undefined | null | XmlValue[] | { [key: string]: XmlValue };

function toBuilderObject(value: XmlValue): unknown {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) return value.length === 0 ? {} : { item: value.map(toBuilderObject) };
  if (typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined && v !== null) out[k] = toBuilderObject(v);
    return out;
  }
  return String(value);
}

/** The XML body of a successful `<Action>Response`. */
export function responseXml(action: string, requestId: string, body: Record<string, XmlValue>, xmlns = "http://ec2.amazonaws.com/doc/2016-11-15/"): string {
  return create({ version: "1.0", encoding: "UTF-8" })
    .ele({ [`${action}Response`]: { "@xmlns": xmlns, requestId, ...(toBuilderObject(body) as object) } })
    .end();
}

/** The EC2 error document. */
export function errorXml(code: string, message: string, requestId: string): string {
  return create({ version: "1.0", encoding: "UTF-8" })
    .ele({ Response: { Errors: { Error: { Code: code, Message: message } }, RequestID: requestId } })
    .end();
}
