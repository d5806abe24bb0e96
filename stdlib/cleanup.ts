/**
 * `cleanup.forImage`: what Packer users put at the end of every template, so each machine made
 * from the image gets its own identity and the image carries no build leftovers.
 */
import type { ProvisionerSpec } from "../lang/provisioner.js";
import { type ComponentOptions } from "./options.js";
import { Script } from "./script.js";

/** Options of `cleanup.forImage`: each part can be turned off. */
export interface ForImageOptions extends ComponentOptions {
  /**
   * Empty `/etc/machine-id` (systemd makes a new one at first boot) and remove D-Bus's copy.
   * @default true
   * @example cleanup.forImage({ machineId: false })
   */
  readonly machineId?: boolean;
  /**
   * Remove SSH host keys (`/etc/ssh/ssh_host_*`); Debian's and cloud-init's first boot regenerate them.
   * @default true
   * @example cleanup.forImage({ sshHostKeys: false })
   */
  readonly sshHostKeys?: boolean;
  /**
   * Reset cloud-init (`cloud-init clean --logs`, or its state directories when the command is absent).
   * @default true
   * @example cleanup.forImage({ cloudInit: false })
   */
  readonly cloudInit?: boolean;
  /**
   * Truncate log files under /var/log, delete rotated ones and the journal's files.
   * @default true
   * @example cleanup.forImage({ logs: false })
   */
  readonly logs?: boolean;
  /**
   * Remove package caches and indexes (apt lists and archives, dnf/yum caches, apk cache).
   * @default true
   * @example cleanup.forImage({ packageCaches: false })
   */
  readonly packageCaches?: boolean;
  /**
   * Remove shell history of root and every user under /home.
   * @default true
   * @example cleanup.forImage({ shellHistory: false })
   */
  readonly shellHistory?: boolean;
  /**
   * Empty /tmp and /var/tmp (entries whose names start with `imgc` are kept: the build's own).
   * @default true
   * @example cleanup.forImage({ tmp: false })
   */
  readonly tmp?: boolean;
}

/**
 * Prepares the machine to become an image. Put it last. Idempotent.
 *
 * @example
 * provision: [packages.install(["nginx"]), cleanup.forImage()]
 * @example
 * cleanup.forImage({ sshHostKeys: false, only: ["qemu"] })
 */
export function forImage(options: ForImageOptions = {}): ProvisionerSpec {
  const { machineId = true, sshHostKeys = true, cloudInit = true, logs = true, packageCaches = true, shellHistory = true, tmp = true, ...common } = options;
  const s = new Script("cleanup.forImage");
  if (machineId) {
    s.add(
      // An empty (not missing) machine-id: systemd fills it at first boot without `firstboot` prompts.
      "if [ -e /etc/machine-id ]; then : > /etc/machine-id; fi",
      "if [ -e /var/lib/dbus/machine-id ] && [ ! -L /var/lib/dbus/machine-id ]; then rm -f /var/lib/dbus/machine-id; fi",
    );
  }
  if (sshHostKeys) s.add("rm -f /etc/ssh/ssh_host_*");
  if (cloudInit) {
    s.add(
      "if has cloud-init; then cloud-init clean --logs --seed || cloud-init clean --logs; fi",
      "rm -rf /var/lib/cloud/instances /var/lib/cloud/instance /var/lib/cloud/data /var/lib/cloud/sem /var/log/cloud-init*.log",
    );
  }
  if (logs) {
    s.add(
      "if [ -d /var/log ]; then",
      "  find /var/log -type f \\( -name '*.gz' -o -name '*.xz' -o -name '*.[0-9]' -o -name '*.old' \\) -exec rm -f {} +",
      "  find /var/log -type f -exec sh -c 'for f; do : > \"$f\"; done' sh {} +",
      "  rm -rf /var/log/journal/*",
      "fi",
    );
  }
  if (packageCaches) {
    s.add(
      "if has apt-get; then apt-get clean; fi",
      "rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin",
      "if has dnf; then dnf clean all >/dev/null 2>&1 || true; fi",
      "if has yum; then yum clean all >/dev/null 2>&1 || true; fi",
      "rm -rf /var/cache/dnf/* /var/cache/yum/* /var/cache/apk/*",
    );
  }
  if (shellHistory) {
    s.add(
      "for h in /root /home/*; do [ -d \"$h\" ] && rm -f \"$h/.bash_history\" \"$h/.ash_history\" \"$h/.zsh_history\" \"$h/.sh_history\" \"$h/.python_history\" \"$h/.lesshst\" \"$h/.viminfo\"; done",
      "unset HISTFILE || true",
    );
  }
  if (tmp) {
    s.add("for d in /tmp /var/tmp; do [ -d \"$d\" ] && find \"$d\" -mindepth 1 -maxdepth 1 ! -name 'imgc*' -exec rm -rf {} +; done");
  }
  s.add("echo 'imgc cleanup.forImage: done'");
  return s.toProvisioner(common);
}
