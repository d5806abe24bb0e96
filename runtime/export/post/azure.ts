/** The `export-azure` post-processor as the runtime's registry loads it (its default export). */
import { asPostProcessor } from "../adapter.js";
import { azure } from "../azure.js";

export default asPostProcessor(azure);
