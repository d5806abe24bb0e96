/** The `amazon-instance` driver (`imgc/drivers/amazon/instance`): instance-store AMIs. */
import { amazonDriver } from "../driver.js";

/** The `amazon-instance` driver. */
export default amazonDriver("amazon-instance");
