/** The `export-vmware` post-processor as the runtime's registry loads it (its default export). */
import { asPostProcessor } from "../adapter.js";
import { vmware } from "../vmware.js";

export default asPostProcessor(vmware);
