import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { LiveState } from '../../core/adapters/live/live-state.js';
import { Segmenter } from '../../core/hls/index.js';
import type { HttpResponse } from '../../core/http.js';
import { RENDITION_STATE_VERSION } from '../../core/live/index.js';
import { type MediaStorage, mediaKeys, newBroadcastId } from '../../core/storage/index.js';

/** Publishes synthetic 100 ms parts (independent every 5) through real storage and live state, as the packager does. */
export class SyntheticRendition {
  private readonly segmenter: Segmenter;
  private count = 0;

  constructor(
    private readonly live: LiveState,
    private readonly storage: MediaStorage,
    readonly streamId: string,
    readonly rendition: string,
    /** The broadcast (decision D16) the parts are written under; a fresh one by default, another after reconnect(). */
    public broadcast: string = newBroadcastId(Date.now()),
  ) {
    this.segmenter = new Segmenter({ partTargetMs: 100, segmentTargetMs: 500, broadcast });
  }

  async init(): Promise<void> {
    await this.storage.put(
      mediaKeys.init(this.streamId, this.rendition, this.broadcast, 1),
      new Uint8Array([1, 2, 3]),
      'init',
    );
  }

  /** The encoder reconnected: a new broadcast, whose init-1 is stored before its first part (as the packager does). */
  async reconnect(broadcast: string): Promise<void> {
    this.broadcast = broadcast;
    this.segmenter.restart(1, broadcast);
    await this.init();
  }

  /** Publishes the next part; returns where it went. */
  async part(): Promise<{ msn: number; part: number }> {
    const i = this.count++;
    const placed = this.segmenter.addPart(
      {
        baseDecodeTime: i * 9000,
        duration: 9000,
        timescale: 90_000,
        independent: i % 5 === 0,
        bytes: 1000,
        initVersion: 1,
      },
      Date.now(),
    );
    await this.storage.put(
      mediaKeys.part(this.streamId, this.rendition, this.broadcast, placed.msn, placed.part),
      partBytes(placed.msn, placed.part),
      'part',
    );
    await this.live.publish(
      this.streamId,
      this.rendition,
      {
        v: RENDITION_STATE_VERSION,
        info: { codecs: ['avc1.64001e', 'mp4a.40.2'], width: 640, height: 360, frameRate: 30 },
        timeline: this.segmenter.timeline(),
        publishedAtMs: Date.now(),
      },
      placed,
    );
    return placed;
  }

  async parts(n: number): Promise<{ msn: number; part: number }> {
    let last = { msn: 0, part: 0 };
    for (let i = 0; i < n; i++) last = await this.part();
    return last;
  }
}

export const partBytes = (msn: number, part: number) => new TextEncoder().encode(`part ${msn}-${part}`);

export const bodyText = (r: HttpResponse) =>
  typeof r.body === 'string' ? r.body : new TextDecoder().decode(r.body);

export const get = (path: string, query: Record<string, string> = {}) => ({
  method: 'GET',
  path,
  query,
  headers: {},
});

/** Resolves to 'pending' if the promise has not settled within `ms`. */
export async function settledWithin<T>(promise: Promise<T>, ms: number): Promise<T | 'pending'> {
  return Promise.race([promise, new Promise<'pending'>((r) => setTimeout(() => r('pending'), ms))]);
}

/** A GET as API Gateway v2 (or a function URL) delivers it to the manifest handler. */
export function functionUrlEvent(
  rawPath: string,
  query: Record<string, string> = {},
): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString: new URLSearchParams(query).toString(),
    headers: {},
    ...(Object.keys(query).length === 0 ? {} : { queryStringParameters: query }),
    isBase64Encoded: false,
    requestContext: {
      http: { method: 'GET', path: rawPath, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 't' },
    },
  } as unknown as APIGatewayProxyEventV2;
}
