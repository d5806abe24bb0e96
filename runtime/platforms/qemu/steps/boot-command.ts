/**
 * Step "boot-command": waits `bootWait`, then types `bootCommand` into the VM's keyboard with
 * QMP `send-key`, one key (chord) per `bootKeyInterval`: `send-key` returns before the guest
 * has read the key, so typing faster loses keys.
 */
import type { Step } from "../../../types.js";
import { fillPlaceholders, parseBootCommand } from "../boot-command.js";
import type { QemuContext } from "../context.js";
import { describeExit } from "../backend.js";
import { sleep } from "../../../communicators/ssh-transport.js";

export const bootCommandStep: Step<QemuContext> = {
  name: "boot-command",
  async run(ctx, signal) {
    const c = ctx.config;
    if (c.bootCommand.length === 0) return;
    const vm = ctx.vm!;
    if (c.bootWaitMs > 0) {
      ctx.env.log.log("info", `waiting ${c.bootWaitMs / 1000} s before typing the boot command`);
      await sleep(c.bootWaitMs, signal);
    }
    const lines = c.bootCommand.map((l) => fillPlaceholders(l, { httpIp: ctx.env.facts.httpIp, httpPort: ctx.env.facts.httpPort, name: c.vmName }));
    const actions = parseBootCommand(lines);
    ctx.env.log.log("info", `typing the boot command (${actions.length} actions)`);
    const held: string[] = [];
    for (const action of actions) {
      const exit = vm.exitStatus();
      if (exit) throw new Error(`${c.nodeId}: the VM stopped while typing the boot command: ${describeExit(exit)}`);
      if (action.kind === "wait") {
        await sleep(action.ms, signal);
        continue;
      }
      if (action.kind === "hold") {
        const i = held.indexOf(action.key);
        if (action.down && i < 0) held.push(action.key);
        if (!action.down && i >= 0) held.splice(i, 1);
        continue;
      }
      const keys = [...new Set([...held, ...action.keys])];
      await vm.qmp.execute("send-key", { keys: keys.map((k) => ({ type: "qcode", data: k })) });
      await sleep(c.bootKeyIntervalMs, signal);
    }
  },
};
