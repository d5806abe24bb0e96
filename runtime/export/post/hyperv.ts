/** The `export-hyperv` post-processor as the runtime's registry loads it (its default export). */
import { asPostProcessor } from "../adapter.js";
import { hyperv } from "../hyperv.js";

export default asPostProcessor(hyperv);
