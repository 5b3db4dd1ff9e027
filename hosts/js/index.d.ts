// The public API of @aos/accounts. Every engine operation's arguments and result are typed in
// data/api.d.ts, generated from the component's own types when the package is built.

import type { Interfaces } from './data/api.js';

export type { Interfaces };

/** Microseconds since the Unix epoch; a BigInt when beyond Number.MAX_SAFE_INTEGER. */
export type Micros = number | bigint;

/** Host configuration the engine gets with every call (`engine-settings`). */
export interface Settings {
  memoryPinsEnabled: boolean;
  supportEmail: string;
  supportHours: string;
  supportResponseTime: string;
  /** How many tenants one person may own. */
  maxOwnedTenantsPerUser: number;
}

export const DEFAULT_SETTINGS: Readonly<Settings>;

/** The engine interfaces the component exports (WIT names). */
export const INTERFACES: readonly string[];

export interface OpenOptions {
  /** Overrides of DEFAULT_SETTINGS. */
  settings?: Partial<Settings>;
  /** The time of each call, in microseconds (default: the wall clock). */
  clock?: () => Micros;
  /** Where the built package data is (default: the package's own data/). */
  dataDir?: string;
  /**
   * A fresh component instance for every call, as the Rust host does, instead of one instance reused
   * until it traps (README, "Instance isolation"); costs about 4–6 ms more per call.
   */
  instancePerCall?: boolean;
}

/** The engine over one SQLite database. Calls are synchronous and run one at a time. */
export declare class Engine {
  /** Opens (creating and migrating) a SQLite database and loads the engine component. */
  static open(path?: string, options?: OpenOptions): Promise<Engine>;
  /** Calls made as `principal`; `tenant` is the call's tenant (an API key's is its own). */
  actingAs(principal: Principal, options?: { tenant?: string | null }): Session;
  /** Every operation (`interface/operation`, WIT names) with its parameter names (JSON convention). */
  listOperations(): Record<string, string[]>;
  /** The JSON-convention call of `Session.call`, with the principal and tenant given. */
  call(principal: Principal, tenant: string | null, interfaceName: string, operation: string, args?: Record<string, unknown>): any;
  /** How many component instances this engine has made: the first, and one after each trap. */
  readonly instantiations: number;
  readonly settings: Readonly<Settings>;
  close(): void;
}

/** Calls as one principal on one tenant: `session.memoryPins.upsertPin({...})`, or the generic `call`. */
export declare class Session {
  readonly principal: Principal;
  readonly tenant: string | null;
  /**
   * Runs `interface.operation` (WIT names, `-` or `_`) with arguments and result in the engine's JSON
   * convention (snake_case fields, as the HTTP API and the conformance suite write them).
   */
  call(interfaceName: string, operation: string, args?: Record<string, unknown>): any;
}
export interface Session extends Interfaces {}

/** An engine call's error: `code` is the engine's stable snake_case code. */
export declare class EngineError extends Error {
  constructor(code: string, message: string);
  readonly code:
    | 'invalid_argument'
    | 'unauthenticated'
    | 'forbidden'
    | 'not_found'
    | 'conflict'
    | 'quota_exceeded'
    | 'lifecycle_blocked'
    | 'feature_disabled'
    | 'activation_incomplete'
    | 'unavailable'
    | 'internal'
    | 'policy_denied'
    | 'policy_failed'
    | (string & {});
}

/** What a driver function answers instead of a result (`driver-error`). */
export declare class DriverError extends Error {
  constructor(code: 'not_found' | 'conflict' | 'invalid' | 'scope_violation' | 'unavailable' | 'backend', message: string);
  readonly code: string;
}

/** Who calls the engine; the host resolves it into the call's actor before the call. */
export declare abstract class Principal {}
/** The platform itself: scripts, jobs, the command line. */
export declare class System extends Principal {}
/** A platform operator, authenticated by the embedding application. */
export declare class Operator extends Principal {
  constructor(operatorId: string);
  readonly operatorId: string;
}
/** A human the embedding application's identity provider vouches for. */
export declare class Person extends Principal {
  constructor(externalId: string, email: string, options?: { name?: string | null; emailVerified?: boolean });
  readonly externalId: string;
  readonly email: string;
  readonly name: string | null;
  readonly emailVerified: boolean;
}
/** A tenant API key, by its secret (looked up by its SHA-256; the call's tenant is the key's). */
export declare class ApiKey extends Principal {
  constructor(secret: string);
  readonly secret: string;
}
/** Nobody. */
export declare class Anonymous extends Principal {}
