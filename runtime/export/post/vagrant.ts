/** The `export-vagrant` post-processor as the runtime's registry loads it (its default export). */
import { asPostProcessor } from "../adapter.js";
import { vagrant } from "../vagrant.js";

export default asPostProcessor(vagrant);
