/**
 * The `docker` platform factory (`imgc/platforms/docker`): builds an image by running a
 * container from a source image, provisioning it through `docker exec`, then committing it,
 * exporting its filesystem, or discarding it. Imports nothing from `runtime/`.
 */
import { z } from "zod";
import { definePlatform, type Input } from "../../../lang/index.js";
import { input } from "../../../lang/schema.js";

/** Image settings applied on commit, the structured form of `docker commit --change`. */
export interface DockerChanges {
  /** `ENV` entries. */
  readonly env?: Readonly<Record<string, Input<string>>>;
  /** `CMD`, as an exec-form list (or a shell-form string). */
  readonly cmd?: readonly string[] | string;
  /** `ENTRYPOINT`, as an exec-form list (or a shell-form string). */
  readonly entrypoint?: readonly string[] | string;
  /** `LABEL` entries. */
  readonly labels?: Readonly<Record<string, Input<string>>>;
  /** `EXPOSE` ports, e.g. `[80, "53/udp"]`. */
  readonly expose?: readonly (number | string)[];
  /** `USER`. */
  readonly user?: string;
  /** `WORKDIR`. */
  readonly workdir?: string;
  /** `VOLUME` paths. */
  readonly volumes?: readonly string[];
  /** `ONBUILD` instructions, e.g. `"RUN echo built"`. */
  readonly onbuild?: readonly string[];
}

/** Credentials for a registry (pull of the source image, or push). */
export interface DockerRegistryAuth {
  /** Registry host[:port]; the image reference's registry when absent. */
  readonly server?: string;
  /** User name. */
  readonly username: Input<string>;
  /** Password or token: pass a `secret()`, it is never printed or stored. */
  readonly password: Input<string>;
}

/** Options shared by every docker output mode. */
export interface DockerCommonOptions {
  /**
   * The source image: a local reference (`bench/base:1`) or one to pull. Omit it when the image
   * has `from`: the upstream image's id is used.
   */
  readonly image?: Input<string>;
  /**
   * Pull the source image: `true` always, `false` never (it must exist locally), `"missing"`
   * only when it is not present locally.
   * @default "missing"
   */
  readonly pull?: boolean | "missing";
  /** Registry credentials for the pull. */
  readonly auth?: DockerRegistryAuth;
  /** Bind mounts, host path → container path (`{ "/src": "/mnt/src" }`). */
  readonly volumes?: Readonly<Record<string, string>>;
  /** Run the build container privileged. @default false */
  readonly privileged?: boolean;
  /** Capabilities added to the build container, e.g. `["SYS_ADMIN"]`. */
  readonly capAdd?: readonly string[];
  /** Capabilities dropped from the build container. */
  readonly capDrop?: readonly string[];
  /** Platform of the source image, e.g. `linux/arm64`. @default the daemon's */
  readonly platform?: string;
  /** User that provisioners run as inside the container (`docker exec --user`). @default the image's user */
  readonly user?: string;
  /** Working directory of provisioner commands. @default the image's */
  readonly workdir?: string;
  /** Environment variables of the build container (not committed unless listed in `changes.env`). */
  readonly env?: Readonly<Record<string, Input<string>>>;
  /** Network mode of the build container, e.g. `none`, `host`. @default the daemon's default */
  readonly network?: string;
  /** Extra `docker run` arguments, for anything not covered above (e.g. `["--shm-size", "1g"]`). */
  readonly runArgs?: readonly string[];
  /** Command that keeps the build container alive. @default ["/bin/sh"] run with a TTY */
  readonly keepAliveCommand?: readonly string[];
  /** Directory inside the container where scripts are uploaded. @default "/tmp" */
  readonly containerDir?: string;
  /** Change the owner of uploaded files to the exec user. @default true */
  readonly fixUploadOwner?: boolean;
}

/** Commit the container as a new image. */
export interface DockerCommitOptions extends DockerCommonOptions {
  /** Commit the container to an image; its id is the artifact. */
  readonly commit: true;
  /** Image settings applied on commit; structured, or raw `docker commit --change` lines. */
  readonly changes?: DockerChanges | readonly string[];
  /** Commit message. */
  readonly message?: string;
  /** Author recorded in the image. */
  readonly author?: string;
  readonly exportPath?: never;
  readonly discard?: never;
}

/** Export the container's filesystem to a tar file. */
export interface DockerExportOptions extends DockerCommonOptions {
  /** Path of the tar of the container's filesystem, relative to the definitions file. */
  readonly exportPath: string;
  readonly commit?: never;
  readonly discard?: never;
  readonly changes?: never;
}

/** Throw the container away after provisioning (e.g. to test provisioners). */
export interface DockerDiscardOptions extends DockerCommonOptions {
  /** Discard the container: the build makes no image. */
  readonly discard: true;
  readonly commit?: never;
  readonly exportPath?: never;
  readonly changes?: never;
}

/** Options of `docker()`: exactly one of `commit`, `exportPath` or `discard`. */
export type DockerOptions = DockerCommitOptions | DockerExportOptions | DockerDiscardOptions;

const stringMap = z.record(z.string(), input(z.string()));
const auth = z.strictObject({ server: z.string().optional(), username: input(z.string()), password: input(z.string()) });
const changes = z.union([
  z.array(z.string()),
  z.strictObject({
    env: stringMap.optional(),
    cmd: z.union([z.array(z.string()), z.string()]).optional(),
    entrypoint: z.union([z.array(z.string()), z.string()]).optional(),
    labels: stringMap.optional(),
    expose: z.array(z.union([z.number().int(), z.string()])).optional(),
    user: z.string().optional(),
    workdir: z.string().optional(),
    volumes: z.array(z.string()).optional(),
    onbuild: z.array(z.string()).optional(),
  }),
]);

/** Runtime check of docker options, for plain JavaScript users. */
export const dockerOptionsSchema = z
  .strictObject({
    image: input(z.string()).optional(),
    pull: z.union([z.boolean(), z.literal("missing")]).optional(),
    auth: auth.optional(),
    volumes: z.record(z.string(), z.string()).optional(),
    privileged: z.boolean().optional(),
    capAdd: z.array(z.string()).optional(),
    capDrop: z.array(z.string()).optional(),
    platform: z.string().optional(),
    user: z.string().optional(),
    workdir: z.string().optional(),
    env: stringMap.optional(),
    network: z.string().optional(),
    runArgs: z.array(z.string()).optional(),
    keepAliveCommand: z.array(z.string()).optional(),
    containerDir: z.string().optional(),
    fixUploadOwner: z.boolean().optional(),
    commit: z.literal(true).optional(),
    changes: changes.optional(),
    message: z.string().optional(),
    author: z.string().optional(),
    exportPath: z.string().optional(),
    discard: z.literal(true).optional(),
  })
  .refine((o) => [o.commit, o.exportPath, o.discard].filter((v) => v !== undefined).length === 1, {
    message: "set exactly one of commit: true, exportPath or discard: true",
  })
  .refine((o) => o.changes === undefined || o.commit === true, { message: "changes apply only with commit: true", path: ["changes"] });

/** A Docker build: `docker({ image: "debian:12", commit: true })`. */
export const docker = definePlatform<"docker", DockerOptions>({
  type: "docker",
  driver: "imgc/drivers/docker",
  version: 1,
  schema: dockerOptionsSchema,
  artifactFields: ["id", "repoTags", "exportPath"],
});

