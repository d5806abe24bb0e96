/**
 * imgc's DSL: what image definitions import from `"imgc"`. Calling these builds plain
 * declaration objects; nothing here talks to a platform.
 */
export { image, isImage, type Image, type ImageSpec, type ArtifactRef } from "./image.js";
export { variable, secret, type VariableOptions, type VariableType, type VariableTypeMap, type SecretOptions } from "./variables.js";
export { t, type TemplatePart } from "./template.js";
export { timestamp, uuid, env, build, lower, upper, trim, replace, join, split, str } from "./functions.js";
export { isRef, type Ref, type VarRef, type Input, type CompileTime, type Expr, type Json, type BuildFact } from "./values.js";
export { definePlatform, isPlatformSpec, type PlatformSpec, type PlatformDefinition, type PlatformFactory, type CommonPlatformOptions, type OptionsSchema } from "./platform.js";
export { makeProvisioner, isProvisioner, type ProvisionerSpec, type ProvisionInput, type CommonProvisionerOptions } from "./provisioner.js";
export { makePost, isPostProcessor, type PostProcessorSpec, type PostInput, type CommonPostOptions } from "./post-processor.js";
export { localPath, type LocalPath, type PathLike } from "./path.js";
export { parseDuration, type Duration } from "./duration.js";
export { IMGC, isKind } from "./brand.js";
export type { SourceSite } from "./site.js";
