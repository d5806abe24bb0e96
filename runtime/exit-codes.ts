/**
 * Exit codes of `imgc apply`, `destroy` and `state` (documented in docs/runtime.md). They extend
 * the compiler's (compiler/diagnostics.ts `EXIT`): same numbers for the same meanings.
 */
export const EXIT = {
  /** Everything selected is built or up to date. */
  OK: 0,
  /** The definitions are wrong (an ImgcError from the compiler): nothing was built. */
  DEFINITIONS: 1,
  /** Bad command line: nothing was built. */
  USAGE: 2,
  /** A bug in imgc. */
  INTERNAL: 3,
  /** A node failed (or was skipped because an upstream failed, or kept by --on-error=abort). */
  BUILD_FAILED: 4,
  /** The state is locked by another process and the wait (`--lock-timeout`) ran out. */
  LOCKED: 5,
  /** The state file cannot be read or written (not JSON, another schema, permissions): nothing was built. */
  STATE: 6,
  /** The user did not confirm (`imgc destroy` answered with anything but "yes"): nothing was changed. */
  DECLINED: 7,
  /** Interrupted by SIGINT/SIGTERM; cleanups ran. */
  INTERRUPTED: 130,
} as const;
