/** The typed context the null driver's steps share. */
import type { DriverEnv } from "../../types.js";
import type { NullBackend, NullSession } from "./backend.js";
import type { NullOptions } from "./factory.js";

/** One null build: the host to provision and the session once open. */
export interface NullContext {
  readonly env: DriverEnv;
  readonly backend: NullBackend;
  /** The resolved platform options. */
  readonly options: NullOptions;
  /** The SSH session, once the connect step opened it. */
  session?: NullSession;
  /** Where the session went: filled by the connect step. */
  target?: { readonly host: string; readonly port: number; readonly user: string };
}
