/** Errors of the export post-processors: `ImgcError`s with code `IMGC_EXPORT`. */
import { ImgcError } from "../../../compiler/diagnostics.js";

/** An export failed or its input/options are wrong; `message` is one sentence, `hint` says what to do. */
export function exportError(message: string, hint?: string): ImgcError {
  return new ImgcError({ code: "IMGC_EXPORT", message, ...(hint ? { hint } : {}) });
}
