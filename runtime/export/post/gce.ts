/** The `export-gce` post-processor as the runtime's registry loads it (its default export). */
import { asPostProcessor } from "../adapter.js";
import { gce } from "../gce.js";

export default asPostProcessor(gce);
