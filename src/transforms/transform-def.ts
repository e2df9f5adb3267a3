/**
 * A transform as a flow writes it (API body or YAML file): an object whose `type` names a registered
 * transform, with that transform's settings. Which types exist, and what settings each takes, is the
 * transform registry's to say (see transform-registry.ts).
 */
export type TransformDef = { readonly type: string } & { readonly [setting: string]: unknown };
