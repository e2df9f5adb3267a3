import type { ConnectorType } from './connectors/connector.js';
import { BUILTIN_CONNECTOR_ALIASES, BUILTIN_CONNECTORS, ConnectorRegistry } from './connectors/registry.js';
import type { Format } from './formats/format.js';
import { FormatRegistry } from './formats/format-registry.js';
import { BUILTIN_FORMATS } from './formats/registry.js';
import { BUILTIN_LISTENER_AUTH } from './listeners/auth/builtin-listener-auth.js';
import { ListenerAuthRegistry } from './listeners/auth/listener-auth-registry.js';
import type { ListenerAuthType } from './listeners/auth/listener-auth-type.js';
import { BUILTIN_TRANSFORMS } from './transforms/builtin-transforms.js';
import { TransformRegistry } from './transforms/transform-registry.js';
import type { TransformType } from './transforms/transform-type.js';

/**
 * The extension points of one server: the formats, transforms, listener auth strategies and connectors
 * it knows. Built once in the composition root; every schema, type list, media type lookup and docs
 * table that depends on what exists is derived from these, so adding one is one new file and a line in
 * its list (or an entry in `ExtraExtensions` for a deployment's own).
 */
export interface Extensions {
  readonly formats: FormatRegistry;
  readonly transforms: TransformRegistry;
  readonly listenerAuth: ListenerAuthRegistry;
  readonly connectors: ConnectorRegistry;
}

/** Entries to register next to the built-in ones; a name that is already taken fails at start-up. */
export interface ExtraExtensions {
  formats?: readonly Format[];
  transforms?: readonly TransformType[];
  listenerAuth?: readonly ListenerAuthType[];
  connectors?: readonly ConnectorType[];
}

export function createExtensions(extra: ExtraExtensions = {}): Extensions {
  return {
    formats: new FormatRegistry([...BUILTIN_FORMATS, ...(extra.formats ?? [])]),
    transforms: new TransformRegistry([...BUILTIN_TRANSFORMS, ...(extra.transforms ?? [])]),
    listenerAuth: new ListenerAuthRegistry([...BUILTIN_LISTENER_AUTH, ...(extra.listenerAuth ?? [])]),
    connectors: new ConnectorRegistry(
      [...BUILTIN_CONNECTORS, ...(extra.connectors ?? [])],
      BUILTIN_CONNECTOR_ALIASES,
    ),
  };
}
