/**
 * The fault suite's pure logic (bench/faults.ts): what a playlist advertises, when a series of observations stalled
 * and recovered, which URIs were seen and which keys were written twice, and the table. No I/O here: the runner
 * feeds it what it observed, test/local/faults-model.test.ts feeds it exact inputs.
 */

/** What one media playlist response says. */
export interface PlaylistRead {
  /**
   * Absolute URLs of every object the playlist says exists: EXT-X-MAP, EXT-X-PART and segment lines. Not the
   * EXT-X-PRELOAD-HINT (a promise, not a listing) and not segments or parts marked as gaps (players do not fetch them).
   */
  readonly advertised: string[];
  /** The newest part's URI (else the newest segment's): it changes exactly when the playlist advances. */
  readonly edge: string | undefined;
  /** The delivery directives of the next blocking reload (the part after the newest). */
  readonly next: { readonly msn: number; readonly part: number } | undefined;
  /** EXT-X-ENDLIST: the producer ended; nothing more will be added. */
  readonly ended: boolean;
}

const attribute = (line: string, name: string): string | undefined =>
  new RegExp(`(?:^|[:,])${name}=(?:"([^"]*)"|([^,]*))`)
    .exec(line.slice(line.indexOf(':') + 1))
    ?.slice(1)
    .find((v) => v !== undefined);

/** Reads a media playlist (RFC 8216bis, with the LL-HLS tags); URIs are resolved against `url`. */
export function readMediaPlaylist(text: string, url: string): PlaylistRead {
  const advertised: string[] = [];
  let msn = 0;
  let partIndex = 0;
  let gapNext = false;
  let ended = false;
  let edge: string | undefined;
  let last: { msn: number; part: number } | undefined;
  const resolve = (uri: string) => new URL(uri, url).href;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) msn = Number(line.slice(22));
    else if (line.startsWith('#EXT-X-SKIP:')) msn += Number(attribute(line, 'SKIPPED-SEGMENTS') ?? 0);
    else if (line.startsWith('#EXT-X-MAP:')) {
      const uri = attribute(line, 'URI');
      if (uri !== undefined) advertised.push(resolve(uri));
    } else if (line.startsWith('#EXT-X-PART:')) {
      const uri = attribute(line, 'URI');
      if (uri !== undefined) {
        if (attribute(line, 'GAP') !== 'YES') advertised.push(resolve(uri));
        edge = resolve(uri);
        last = { msn, part: partIndex };
      }
      partIndex++;
    } else if (line === '#EXT-X-GAP') gapNext = true;
    else if (line === '#EXT-X-ENDLIST') ended = true;
    else if (!line.startsWith('#')) {
      if (!gapNext) advertised.push(resolve(line));
      // A segment without parts listed (older than the part window) is the edge only if nothing newer is.
      if (last === undefined || last.msn < msn) edge = resolve(line);
      gapNext = false;
      msn++;
      partIndex = 0;
    }
  }
  const next =
    last === undefined
      ? edge === undefined
        ? undefined
        : { msn, part: 0 }
      : { msn: last.msn, part: last.part + 1 };
  return { advertised, edge, next, ended };
}

/** Absolute URLs of the media playlists a multivariant playlist names (variant streams and EXT-X-MEDIA). */
export function variantPlaylists(text: string, url: string): string[] {
  const uris = new Set<string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#EXT-X-MEDIA:')) {
      const uri = attribute(line, 'URI');
      if (uri !== undefined) uris.add(new URL(uri, url).href);
    } else if (!line.startsWith('#')) uris.add(new URL(line, url).href);
  }
  return [...uris];
}

/** One observation of something that should move: a playlist's edge URI, or a player's currentTime. */
export interface Observation<T> {
  readonly atMs: number;
  readonly value: T;
}

/** Epoch ms of the observations where the value moved on from the one before (the first observation counts). */
export function advances<T>(
  observations: readonly Observation<T>[],
  moved: (previous: T, current: T) => boolean,
): number[] {
  const out: number[] = [];
  let previous: Observation<T> | undefined;
  for (const o of observations) {
    if (previous === undefined || moved(previous.value, o.value)) out.push(o.atMs);
    previous = o;
  }
  return out;
}

/** A playlist moved when its edge names another part (numbering may restart: any change counts). */
export const edgeMoved = (a: string | undefined, b: string | undefined): boolean =>
  b !== undefined && a !== b;
/** A player moved when its currentTime grew (a reload resets it: a drop is not progress, the next growth is). */
export const timeMoved = (a: number, b: number): boolean => b > a + 0.001;

export interface Freeze {
  readonly fromMs: number;
  readonly toMs: number;
}

/**
 * Spans of [fromMs, toMs] longer than `minMs` without an advance. A span still open at toMs ends there; with no
 * advance at all the whole window is one freeze.
 */
export function findFreezes(
  advanceTimes: readonly number[],
  fromMs: number,
  toMs: number,
  minMs: number,
): Freeze[] {
  const out: Freeze[] = [];
  let since = fromMs;
  for (const at of advanceTimes) {
    if (at < fromMs) continue;
    if (at > toMs) break;
    if (at - since > minMs) out.push({ fromMs: since, toMs: at });
    since = at;
  }
  if (toMs - since > minMs) out.push({ fromMs: since, toMs });
  return out;
}

/** The longest freeze (ms), 0 when there is none. */
export const longestFreezeMs = (spans: readonly Freeze[]): number =>
  spans.reduce((max, s) => Math.max(max, s.toMs - s.fromMs), 0);

/**
 * The start of the current run of progress: the first advance after the last gap longer than `freezeMs` (the very
 * first advance when there was none). Undefined when frozen at `nowMs` (its last advance older than `freezeMs`).
 */
export function progressingSince(
  advanceTimes: readonly number[],
  nowMs: number,
  freezeMs: number,
): number | undefined {
  const times = advanceTimes.filter((t) => t <= nowMs);
  let index = times.length - 1;
  if (index < 0 || nowMs - times[index]! > freezeMs) return undefined;
  while (index > 0 && times[index]! - times[index - 1]! <= freezeMs) index--;
  return times[index];
}

/**
 * When something a fault stopped moved steadily again, from the run of progress it was in at the row's end (see
 * progressingSince): that run's start, or the fault's end if the run started before it (it never stopped, or
 * resumed while the fault lasted). Undefined when it was not moving at the row's end, or had moved for less than
 * `steadyMs` (one late part is not a recovery).
 */
export function recoveredAtMs(
  since: number | undefined,
  fault: { readonly endMs: number },
  rowEndMs: number,
  steadyMs: number,
): number | undefined {
  if (since === undefined || rowEndMs - since < steadyMs) return undefined;
  return Math.max(since, fault.endMs);
}

/** Every URI seen once, with the row it was first seen in; bounded (a run sees a few thousand). */
export class UriLedger {
  readonly #firstRow = new Map<string, number>();
  #overflow = 0;

  constructor(private readonly max = 200_000) {}

  /** Records `uri` for `row` unless seen before; false when new URIs no longer fit (counted in `overflow`). */
  add(uri: string, row: number): boolean {
    if (this.#firstRow.has(uri)) return true;
    if (this.#firstRow.size >= this.max) {
      this.#overflow++;
      return false;
    }
    this.#firstRow.set(uri, row);
    return true;
  }

  /** URIs first seen in `row` (every URI when row is undefined), in the order seen. */
  firstSeenIn(row?: number): string[] {
    return [...this.#firstRow].filter(([, r]) => row === undefined || r === row).map(([uri]) => uri);
  }

  get size(): number {
    return this.#firstRow.size;
  }

  get overflow(): number {
    return this.#overflow;
  }
}

/** Keys written more than once during a row. */
export interface Reuse {
  readonly keys: number;
  /** Of those, keys whose bytes differed (a stale-cache hazard); the rest rewrote identical bytes (a retry). */
  readonly changed: number;
  readonly examples: string[];
}

/** PUTs per storage key (from s3rver's events); a key PUT twice is a reused name, whatever its bytes. */
export class PutLedger {
  readonly #keys = new Map<
    string,
    { puts: number; etag: string | undefined; changed: boolean; reusedIn?: number }
  >();
  #overflow = 0;

  constructor(private readonly max = 500_000) {}

  record(key: string, etag: string | undefined, row: number): void {
    const seen = this.#keys.get(key);
    if (seen === undefined) {
      if (this.#keys.size >= this.max) this.#overflow++;
      else this.#keys.set(key, { puts: 1, etag, changed: false });
      return;
    }
    seen.puts++;
    seen.changed ||= seen.etag !== etag;
    seen.reusedIn ??= row;
  }

  /** Keys whose second PUT happened in `row` (every reused key when row is undefined). */
  reusedIn(row?: number, exampleCount = 3): Reuse {
    const hits = [...this.#keys].filter(
      ([, v]) => v.reusedIn !== undefined && (row === undefined || v.reusedIn === row),
    );
    return {
      keys: hits.length,
      changed: hits.filter(([, v]) => v.changed).length,
      examples: hits.slice(0, exampleCount).map(([k]) => k),
    };
  }

  get size(): number {
    return this.#keys.size;
  }

  get overflow(): number {
    return this.#overflow;
  }
}

/** One row of the table: what one fault cost. */
export interface FaultRow {
  readonly fault: string;
  /** Why the fault did not run (no root for netns, ...); every figure is then absent. */
  readonly skipped?: string;
  /** The injection itself failed (the stream never went away, ...): no figures, and the bar is missed. */
  readonly failed?: string;
  /** Longest time the player's currentTime did not advance (s). */
  readonly playerGapS?: number;
  /** `waiting` events after playback had started. */
  readonly stalls?: number;
  readonly fatalErrors?: number;
  /** URIs listed in a playlist during the row that the edge or storage did not return. */
  readonly missing?: number;
  readonly reusedKeys?: number;
  /** From the fault's end until the playlist advances and the player plays again (s); null: not within the row. */
  readonly recoveryS?: number | null;
}

const figure = (value: number | undefined, digits = 0): string =>
  value === undefined ? '' : value.toFixed(digits);

/** The Markdown table, one row per fault. */
export function renderTable(rows: readonly FaultRow[]): string {
  const lines = [
    '| fault | player gap (s) | stalls | fatal errors | advertised but missing | key names reused | recovery (s) |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of rows) {
    const reason =
      row.skipped === undefined ? row.failed && `failed: ${row.failed}` : `skipped: ${row.skipped}`;
    if (reason !== undefined) {
      lines.push(`| ${row.fault} | ${reason} | | | | | |`);
      continue;
    }
    const recovery = row.recoveryS === null ? 'not recovered' : figure(row.recoveryS ?? undefined, 1);
    lines.push(
      `| ${row.fault} | ${figure(row.playerGapS, 1)} | ${figure(row.stalls)} | ${figure(row.fatalErrors)} | ${figure(row.missing)} | ${figure(row.reusedKeys)} | ${recovery} |`,
    );
  }
  return lines.join('\n');
}

/** The bar: nothing missing, no name reused, no fatal error, recovery within `maxRecoveryS`. */
export function meetsBar(row: FaultRow, maxRecoveryS: number): boolean {
  if (row.skipped !== undefined) return true;
  return (
    row.failed === undefined &&
    row.missing === 0 &&
    row.reusedKeys === 0 &&
    row.fatalErrors === 0 &&
    row.recoveryS !== null &&
    row.recoveryS !== undefined &&
    row.recoveryS <= maxRecoveryS
  );
}
