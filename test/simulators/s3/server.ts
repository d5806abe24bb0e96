/**
 * A minimal S3 REST simulator on 127.0.0.1 with path-style addressing (`/bucket/key`): buckets
 * (CreateBucket, HeadBucket), PutObject, GetObject, HeadObject, DeleteObject, ListObjectsV2, and
 * S3's XML errors. Bodies sent with `aws-chunked` encoding (the SDK's streaming checksums) are
 * decoded. Objects live in memory. Enough for instance-store bundles.
 */
import { createHash, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { create } from "xmlbuilder2";

interface S3Object {
  readonly body: Buffer;
  readonly etag: string;
  readonly lastModified: Date;
  readonly contentType?: string;
}

/** A running S3 simulator. */
export class S3Simulator {
  /** Buckets and their objects, by key. */
  readonly buckets = new Map<string, Map<string, S3Object>>();
  /** Requests answered, `METHOD /path`, for tests. */
  readonly requests: string[] = [];
  private server?: Server;

  /** The endpoint URL to give the SDK (with `forcePathStyle: true`). */
  get endpoint(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  /** True when the object exists (the EC2 simulator's RegisterImage checks manifests with it). */
  hasObject(bucket: string, key: string): boolean {
    return this.buckets.get(bucket)?.has(key) ?? false;
  }

  /** Starts listening on a free loopback port. */
  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res).catch((e: Error) => error(res, 500, "InternalError", e.message)));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    return this;
  }

  /** Stops the server. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const [, bucketName = "", ...rest] = url.pathname.split("/");
    const key = decodeURIComponent(rest.join("/"));
    const method = req.method ?? "GET";
    this.requests.push(`${method} ${url.pathname}`);
    let body = await readBody(req);
    if (/aws-chunked/.test(String(req.headers["content-encoding"] ?? "")) || String(req.headers["x-amz-content-sha256"] ?? "").startsWith("STREAMING-")) body = decodeChunked(body);
    if (!bucketName) return xml(res, 200, { ListAllMyBucketsResult: { Buckets: { Bucket: [...this.buckets.keys()].map((Name) => ({ Name })) } } });
    const bucket = this.buckets.get(bucketName);
    if (!key) {
      if (method === "PUT") {
        if (bucket) return error(res, 409, "BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it.");
        this.buckets.set(bucketName, new Map());
        res.writeHead(200, { location: `/${bucketName}` }).end();
        return;
      }
      if (!bucket) return error(res, 404, "NoSuchBucket", "The specified bucket does not exist");
      if (method === "HEAD") return void res.writeHead(200).end();
      if (method === "DELETE") {
        if (bucket.size > 0) return error(res, 409, "BucketNotEmpty", "The bucket you tried to delete is not empty");
        this.buckets.delete(bucketName);
        return void res.writeHead(204).end();
      }
      if (method === "GET" && url.searchParams.get("list-type") === "2") {
        const prefix = url.searchParams.get("prefix") ?? "";
        const max = Number(url.searchParams.get("max-keys") ?? 1000);
        const after = url.searchParams.get("continuation-token") ?? url.searchParams.get("start-after") ?? "";
        const keys = [...bucket.keys()].filter((k) => k.startsWith(prefix) && k > after).sort();
        const page = keys.slice(0, max);
        const truncated = keys.length > page.length;
        return xml(res, 200, {
          ListBucketResult: {
            "@xmlns": "http://s3.amazonaws.com/doc/2006-03-01/",
            Name: bucketName,
            Prefix: prefix,
            KeyCount: page.length,
            MaxKeys: max,
            IsTruncated: truncated,
            ...(truncated ? { NextContinuationToken: page.at(-1) } : {}),
            ...(page.length ? { Contents: page.map((k) => ({ Key: k, Size: bucket.get(k)!.body.length, ETag: bucket.get(k)!.etag, LastModified: bucket.get(k)!.lastModified.toISOString(), StorageClass: "STANDARD" })) } : {}),
          },
        });
      }
      return error(res, 405, "MethodNotAllowed", `${method} on a bucket is not supported by the simulator`);
    }
    if (!bucket) return error(res, 404, "NoSuchBucket", "The specified bucket does not exist");
    if (method === "PUT") {
      const etag = `"${createHash("md5").update(body).digest("hex")}"`;
      bucket.set(key, { body, etag, lastModified: new Date(), contentType: req.headers["content-type"] });
      return void res.writeHead(200, { etag }).end();
    }
    if (method === "DELETE") {
      bucket.delete(key);
      return void res.writeHead(204).end();
    }
    const obj = bucket.get(key);
    if (!obj) return method === "HEAD" ? void res.writeHead(404).end() : error(res, 404, "NoSuchKey", "The specified key does not exist.");
    const headers = { etag: obj.etag, "content-length": obj.body.length, "last-modified": obj.lastModified.toUTCString(), "content-type": obj.contentType ?? "binary/octet-stream" };
    if (method === "HEAD") return void res.writeHead(200, headers).end();
    if (method === "GET") return void res.writeHead(200, headers).end(obj.body);
    error(res, 405, "MethodNotAllowed", `${method} is not supported by the simulator`);
  }
}

/** Starts an S3 simulator on a free loopback port. */
export async function startS3Simulator(): Promise<S3Simulator> {
  return new S3Simulator().start();
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** Decodes `aws-chunked`: `<hex size>[;chunk-signature=…]\r\n<data>\r\n` … `0\r\n<trailers>\r\n\r\n`. */
function decodeChunked(raw: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = raw.indexOf("\r\n", at);
    if (eol < 0) break;
    const size = parseInt(raw.subarray(at, eol).toString("latin1").split(";")[0]!, 16);
    if (!Number.isFinite(size) || size === 0) break;
    out.push(raw.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(out);
}

function xml(res: ServerResponse, status: number, doc: object): void {
  const body = create({ version: "1.0", encoding: "UTF-8" }).ele(doc).end();
  res.writeHead(status, { "content-type": "application/xml", "content-length": Buffer.byteLength(body) }).end(body);
}

function error(res: ServerResponse, status: number, code: string, message: string): void {
  xml(res, status, { Error: { Code: code, Message: message, RequestId: randomUUID() } });
}
