import { LIVE_PREFIX, liveKeys } from '../live/keys.js';
import { recordingIndexKeys } from '../recordings/entry.js';
import { channels, KEY_PREFIX, streamKeys, taskKeys } from '../streams/keys.js';

/**
 * Who may touch what in Redis (decision D38): one user per component, its key patterns, channels and commands, as
 * data. The ElastiCache users (infra/constructs/live-state), the local redis-server's users (local/redis.ts) and
 * the ACL tests (test/core/redis-acl.test.ts) are all derived from this table, so a drift fails a test, not a
 * deployment. A new key family must be added here, to the component that reads or writes it: without it, that
 * component's command answers NOPERM.
 *
 * Key patterns are Redis ACL globs (`~` read and write, `%R~` read only, `%W~` write only; Redis 7). Secrets live
 * under their own prefix (`mirror:secret:*`) so that "may read stream records" does not imply "may read publish
 * credentials". Channel rights cannot tell SUBSCRIBE from PUBLISH; the command list does (manifest may only listen).
 */

export type RedisComponent = 'ingest' | 'manifest' | 'session' | 'control' | 'events';
export const REDIS_COMPONENTS: readonly RedisComponent[] = [
  'ingest',
  'manifest',
  'session',
  'control',
  'events',
];

export type KeyAccess = 'read' | 'write' | 'readwrite';

export interface ComponentAccess {
  /** Key glob -> access. */
  readonly keys: Readonly<Record<string, KeyAccess>>;
  /** Channel globs it may SUBSCRIBE or PUBLISH to (which of the two: `commands`). */
  readonly channels: readonly string[];
  /** ACL command rules, in order, after `-@all` (then every user gets NEVER and CONNECTION, below). */
  readonly commands: readonly string[];
}

const any = '*';
/**
 * Key families named in core/adapters (pure modules cannot import them): the session store, rate limit, viewer
 * counts and audit log. test/core/redis-acl.test.ts checks each against its adapter's key function.
 */
export const ADAPTER_KEY_PATTERNS = {
  session: `${KEY_PREFIX}session:${any}`,
  ratelimit: `${KEY_PREFIX}ratelimit:${any}`,
  viewers: `${KEY_PREFIX}viewers:${any}`,
  audit: `${KEY_PREFIX}audit`,
} as const;
/**
 * Every connection: liveness, ioredis's ready check (INFO) and connection naming (CLIENT SETNAME). Not CLIENT
 * SETINFO, which ioredis also sends: Redis 7.0 (Debian's, and ElastiCache 7.1) does not know it, and ioredis ignores
 * its refusal.
 */
const CONNECTION = ['+ping', '+info', '+client|setname'];
/**
 * Never, whatever the category above allows: commands that name keys outside the patterns (SCAN, KEYS,
 * RANDOMKEY list key names; D38 moved publish keys out of key names, but stream ids are not everyone's business) or
 * administer the server (@dangerous: FLUSHALL, CONFIG, DEBUG, ...).
 */
const NEVER = ['-@dangerous', '-scan', '-randomkey', '-keys'];
/** Transactions and the Lua scripts (leases, compare-and-set, rate limit) with the TIME they read. */
const SCRIPTS = ['+multi', '+exec', '+discard', '+eval', '+evalsha', '+time'];
const SUBSCRIBE = ['+subscribe', '+unsubscribe'];

const publicRecords = {
  [streamKeys.record(any)]: 'read',
  [streamKeys.index]: 'read',
  [streamKeys.status(any)]: 'read',
} as const satisfies Record<string, KeyAccess>;

/**
 * What the control function and the ingest both write: the registry with its secrets (the ingest only to restore
 * them after a data loss), status and broadcasts (the control function deletes them with a stream), the task index
 * (the control function prunes it) and the live state (the control function deletes a stream's).
 */
const registryWriters = {
  [streamKeys.record(any)]: 'readwrite',
  [streamKeys.index]: 'readwrite',
  [streamKeys.epoch]: 'readwrite',
  [streamKeys.secret(any)]: 'readwrite',
  [streamKeys.status(any)]: 'readwrite',
  [streamKeys.broadcasts(any)]: 'readwrite',
  [taskKeys.index]: 'readwrite',
  [`${LIVE_PREFIX}${any}`]: 'readwrite',
  // The recordings index (D40): the ingest writes it, the control function lists and deletes.
  [recordingIndexKeys.pattern]: 'readwrite',
} as const satisfies Record<string, KeyAccess>;

export const REDIS_ACCESS: Readonly<Record<RedisComponent, ComponentAccess>> = {
  /**
   * The manifest function serves anyone on the internet: live playlist state, read only, and the wake-ups. No
   * stream record, no secret, no write (a compromised manifest cannot forge a playlist for another instance).
   */
  manifest: {
    keys: { [`${LIVE_PREFIX}${any}`]: 'read' },
    channels: [liveKeys.notify(any)],
    commands: ['+@read', ...SUBSCRIBE],
  },
  /**
   * The session function also serves the public: stream records and ingest status to read (names, layouts,
   * bitrates), its own sessions, rate limits and viewer counts to write. No secret, no live state.
   */
  session: {
    keys: {
      ...publicRecords,
      [ADAPTER_KEY_PATTERNS.session]: 'readwrite',
      [ADAPTER_KEY_PATTERNS.ratelimit]: 'readwrite',
      [ADAPTER_KEY_PATTERNS.viewers]: 'readwrite',
    },
    channels: [],
    commands: ['+@read', '+@write', ...SCRIPTS],
  },
  /**
   * The control function (operators, IAM-authenticated): the registry with its secrets (it writes the key's hash
   * and the sealed passphrase, and reads them back to rotate one part; it cannot open the seal: KMS denies it
   * Decrypt), the clientTokens, the audit log; it removes a deleted stream's status, broadcasts and live state.
   */
  control: {
    keys: {
      ...registryWriters,
      [streamKeys.byPublishKey(any)]: 'write',
      [streamKeys.clientToken(any)]: 'readwrite',
      [streamKeys.lease(any)]: 'read',
      [taskKeys.report(any)]: 'read',
      [ADAPTER_KEY_PATTERNS.viewers]: 'read',
      [ADAPTER_KEY_PATTERNS.audit]: 'readwrite',
    },
    channels: [channels.streamChanges, channels.ingestCommands, channels.operatorEvents],
    commands: ['+@read', '+@write', ...SCRIPTS, '+publish'],
  },
  /**
   * The operator events function (D44): listens on the events channel, and samples viewer counts (the public session
   * function that writes them may not publish): the stream index (ids) and the viewer sets, read with ZRANGE and a
   * MULTI of ZCOUNTs, nothing else. No record, no status, no secret, no write: the rest it relays from the channel.
   */
  events: {
    keys: { [streamKeys.index]: 'read', [ADAPTER_KEY_PATTERNS.viewers]: 'read' },
    channels: [channels.operatorEvents],
    commands: [...SUBSCRIBE, '+zrange', '+zcount', '+multi', '+exec'],
  },
  /**
   * The ingest tasks: the live state and media bookkeeping they publish, leases, status and task reports; the
   * registry and secrets to read (and to write back after Redis lost its data set, which only a task still holds).
   */
  ingest: {
    keys: {
      ...registryWriters,
      [streamKeys.lease(any)]: 'readwrite',
      [taskKeys.report(any)]: 'readwrite',
    },
    channels: [
      channels.streamChanges,
      channels.ingestCommands,
      liveKeys.notify(any),
      channels.operatorEvents,
    ],
    commands: ['+@read', '+@write', ...SCRIPTS, ...SUBSCRIBE, '+publish'],
  },
};

const KEY_RULE: Record<KeyAccess, string> = { read: '%R~', write: '%W~', readwrite: '~' };

/**
 * Pure: the ACL rules of a component, without user name or password: `on`, its keys, its channels, `-@all`, then
 * its commands. ElastiCache takes them joined as the user's AccessString; redis-server as ACL SETUSER arguments.
 */
export function aclRules(component: RedisComponent): string[] {
  const access = REDIS_ACCESS[component];
  return [
    'on',
    ...Object.entries(access.keys).map(([pattern, mode]) => `${KEY_RULE[mode]}${pattern}`),
    ...access.channels.map((channel) => `&${channel}`),
    '-@all',
    ...access.commands,
    // After the categories: -@dangerous would otherwise take INFO (a @dangerous command) back.
    ...NEVER,
    ...CONNECTION,
  ];
}

/** Pure: the ElastiCache AccessString of a component. */
export const accessString = (component: RedisComponent): string => aclRules(component).join(' ');

/** The user name of a component on a self-managed redis-server (the embedded default, tests). */
export const localRedisUser = (component: RedisComponent): string => `mirror-${component}`;

/** Pure: `ACL SETUSER` arguments (after `ACL`) that (re)define a component's user with `password` on redis-server. */
export function aclSetUserArgs(component: RedisComponent, password: string): string[] {
  return ['SETUSER', localRedisUser(component), 'reset', `>${password}`, ...aclRules(component)];
}
