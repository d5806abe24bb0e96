/**
 * `reboot`: restarts the machine in the middle of provisioning (after a kernel upgrade, say) and
 * carries on once it is back. It is shell steps: one that runs the reboot command and waits for
 * the connection to drop, marked `expectDisconnect` (the lost connection is success, and the
 * communicator reconnects); one that rides out a reconnection that reached the machine while it
 * was still going down; then one with `pauseBefore` that checks, by the kernel's boot id, that
 * the machine really booted anew.
 */
import type { Duration } from "../lang/duration.js";
import type { ProvisionerSpec } from "../lang/provisioner.js";
import { badOption, type ComponentOptions } from "./options.js";
import { quote, Script } from "./script.js";

/** Options of `reboot`. */
export interface RebootOptions extends ComponentOptions {
  /**
   * How long to wait after the reboot command before reconnecting.
   * @default "15s"
   * @example reboot({ pauseAfter: "1m" })
   */
  readonly pauseAfter?: Duration;
  /**
   * The command that reboots.
   * @default "shutdown -r now || reboot"
   * @example reboot({ command: "systemctl reboot" })
   */
  readonly command?: string;
  /**
   * What to do in a container, where rebooting is meaningless: `"skip"` with a message (so one
   * definition serves docker and VMs), or `"fail"`.
   * @default "skip"
   * @example reboot({ inContainer: "fail" })
   */
  readonly inContainer?: "skip" | "fail";
  /**
   * Give up if the machine is not back after this long (on the step after the reboot).
   * @default "10m"
   * @example reboot({ timeout: "20m" })
   */
  readonly timeout?: Duration;
}

// A container, by the markers Docker, Podman and systemd-nspawn leave.
const IN_CONTAINER = "[ -f /.dockerenv ] || [ -f /run/.containerenv ] || grep -qa 'container=' /proc/1/environ 2>/dev/null";
const BOOT_MARK = "/var/lib/imgc-reboot-boot-id";

/**
 * Reboots the machine and waits for it to come back.
 *
 * @example
 * provision: [packages.upgrade({ full: true }), reboot(), shell({ inline: ["uname -r"] })]
 * @example
 * reboot({ pauseAfter: "30s", sudo: true })
 */
export function reboot(options: RebootOptions = {}): ProvisionerSpec[] {
  const { pauseAfter = "15s", command = "shutdown -r now || reboot", inContainer = "skip", timeout = "10m", ...common } = options;
  if (inContainer !== "skip" && inContainer !== "fail") badOption("reboot", `inContainer ${JSON.stringify(inContainer)} must be "skip" or "fail"`);
  if (typeof command !== "string" || /[\r\n]/.test(command) || command.trim() === "") badOption("reboot", "command must be one non-empty line");

  const before = new Script("reboot");
  before.add(
    `if ${IN_CONTAINER}; then`,
    inContainer === "skip"
      ? "  echo 'imgc reboot: this machine is a container; nothing to reboot, skipping'; exit 0"
      : "  die 'this machine is a container, which cannot reboot; use except: [\"docker\"] or inContainer: \"skip\"'",
    "fi",
    // Remember this boot, so the next step can prove the machine really restarted.
    `mkdir -p ${BOOT_MARK.replace(/\/[^/]*$/, "")}`,
    `cat /proc/sys/kernel/random/boot_id > ${BOOT_MARK} 2>/dev/null || true`,
    "echo 'imgc reboot: rebooting'",
    // Stay in the command until the reboot cuts the connection: the runtime treats that
    // disconnect as success (expectDisconnect) and reconnects. Commands like `shutdown -r now`
    // return at once, hence the wait; a machine that never goes down fails the step.
    command,
    "sleep 300",
    `die ${quote(`the machine did not go down within 5 minutes of: ${command}`)}`,
  );
  // The runtime reconnects as soon as the connection drops, which can still reach the old
  // system while it shuts down (its SSH server not yet stopped). This step runs right after that
  // reconnection: on the old boot it waits for the connection to drop again (expected, so the
  // runtime reconnects once more); on the new boot it passes at once.
  const settle = new Script("reboot");
  settle.add(
    `mark=${quote(BOOT_MARK)}`,
    "if [ -f \"$mark\" ] && [ \"$(cat /proc/sys/kernel/random/boot_id 2>/dev/null)\" = \"$(cat \"$mark\")\" ]; then",
    "  echo 'imgc reboot: reached the machine while it goes down; waiting for it to come back'",
    "  sleep 300",
    "  die 'the machine did not go down within 5 minutes'",
    "fi",
  );
  const after = new Script("reboot");
  after.add(
    `mark=${quote(BOOT_MARK)}`,
    "if [ -f \"$mark\" ]; then",
    "  if [ \"$(cat /proc/sys/kernel/random/boot_id 2>/dev/null)\" = \"$(cat \"$mark\")\" ]; then rm -f \"$mark\"; die 'the machine did not reboot (same boot id as before)'; fi",
    "  rm -f \"$mark\"; echo 'imgc reboot: back after reboot'",
    "fi",
  );
  return [
    before.toProvisioner({ ...common, expectDisconnect: true }),
    settle.toProvisioner({ ...common, expectDisconnect: true }),
    after.toProvisioner({ ...common, pauseBefore: pauseAfter, timeout }),
  ];
}
