/** The `export-parallels` post-processor as the runtime's registry loads it (its default export). */
import { asPostProcessor } from "../adapter.js";
import { parallels } from "../parallels.js";

export default asPostProcessor(parallels);
