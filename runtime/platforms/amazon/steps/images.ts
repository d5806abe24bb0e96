/** Shared AMI chores: wait until available, deregister with snapshots. */
import type { Ec2Backend } from "../backend.js";
import type { AmazonContext } from "../context.js";
import { waitFor } from "../wait.js";

/** Waits until an AMI is available; returns its snapshot ids. Fails on `failed`/`invalid`. */
export async function waitAvailable(ctx: AmazonContext, ec2: Ec2Backend, id: string, signal: AbortSignal): Promise<string[]> {
  let snapshots: string[] = [];
  await waitFor(
    `AMI ${id} in ${ec2.region} becoming available`,
    async () => {
      const ami = await ec2.describeImage(id, signal, true);
      const state = ami?.state ?? "not visible yet";
      snapshots = [...(ami?.snapshotIds ?? [])];
      const bad = state === "failed" || state === "invalid" || state === "error" || state === "deregistered";
      return { done: state === "available", state, ...(bad ? { failure: `it is ${state}${ami?.stateReason ? `: ${ami.stateReason}` : ""}` } : {}) };
    },
    { pollMs: ctx.settings.pollMs, timeoutMs: ctx.settings.waitMs, signal },
  );
  return snapshots;
}

/** Deregisters an AMI and deletes its snapshots (what exists of them). */
export async function deregisterWithSnapshots(ec2: Ec2Backend, id: string, signal: AbortSignal, deleteSnapshots = true): Promise<void> {
  const ami = await ec2.describeImage(id, signal);
  await ec2.deregisterImage(id, signal);
  if (deleteSnapshots) for (const snap of ami?.snapshotIds ?? []) await ec2.deleteSnapshot(snap, signal);
}
