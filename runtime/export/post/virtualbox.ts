/** The `export-virtualbox` post-processor as the runtime's registry loads it (its default export). */
import { asPostProcessor } from "../adapter.js";
import { virtualbox } from "../virtualbox.js";

export default asPostProcessor(virtualbox);
