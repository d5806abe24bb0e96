/**
 * `imgc/runtime`: the plugin API. A third-party platform is an npm package whose factory uses
 * `definePlatform` (from `imgc`) and whose driver module default-exports a `PlatformDriver`
 * built from these types; provisioners and post-processors register here. See docs/runtime.md.
 */
export * from "./types.js";
export type { GraphNode, BuildGraph, IrStep, IrPath, IrRef } from "../compiler/ir.js";
export { isIrPath, isIrRef } from "../compiler/ir.js";
export { registerProvisioner, loadProvisioner, provisionerTypes } from "./provisioners/index.js";
export { registerPostProcessor, loadPostProcessor, postProcessorTypes, type PostProcessorImpl, type PostContext, type PostResult } from "./post/registry.js";
export { runSteps, CancelledError, type OnError, type RunStepsOptions, type RunStepsResult } from "./steps.js";
export { Redactor, SENSITIVE } from "./redact.js";
export { EventBus, EVENT_SCHEMA, type RuntimeEvent, type NodeStatus, type PlanStatus } from "./events.js";
export { EXIT } from "./exit-codes.js";
export { apply, planProject, type ApplyOptions, type ApplyResult } from "./apply.js";
export { destroy, type DestroyOptions } from "./destroy.js";
export { writeFileAtomic } from "./state/atomic-write.js";
export { LocalCommunicator } from "./plugin/local.js";
