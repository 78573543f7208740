import type { z } from 'zod';
import { AuditLog } from '../../core/adapters/audit.js';
import { type OperatorEventPublisher, redisEventPublisher } from '../../core/adapters/events.js';
import { viewerCounts } from '../../core/adapters/sessions/viewers.js';
import {
  publicView,
  type SrtEndpoint,
  StreamRegistry,
  srtUrls,
} from '../../core/adapters/streams/registry.js';
import {
  type AnyRoute,
  ApiError,
  type RouteContext,
  type RouteSpec,
  respondError,
  route,
  toApiError,
} from '../../core/api/router.js';
import { DEFAULT_RTP_PORT } from '../../core/contracts/env.js';
import { type HttpResponse, jsonResponse } from '../../core/http.js';
import type { Logger } from '../../core/logger.js';
import type { RedisPort as Redis } from '../../core/resp/port.js';
import { encoderCommand, encoderSdp, renderSdp, rtpUrl, SRTP_SUITE } from '../../core/streams/rtp-sdp.js';
import type { StreamCredentials, StreamRecord } from '../../core/streams/schema.js';
import type { DataKeyProvider } from '../../core/streams/secrets.js';
import type * as S from './schemas.js';
import { statusView } from './views.js';

/** What every control route shares: the registry, the audit log and how a stream is shown. */
export interface ControlContext {
  readonly registry: StreamRegistry;
  readonly audit: AuditLog;
  /** Streams as the API shows them: the public record, its live status and its viewers. */
  view(records: readonly StreamRecord[]): Promise<z.infer<ReturnType<typeof S.StreamView>>[]>;
  /** 200 with `{ stream }`. */
  streamResponse(record: StreamRecord): Promise<HttpResponse>;
  /**
   * The stream with the credentials just issued and SRT URLs: answered once, on create and rotate. A part not
   * issued (not rotated, or a clientToken replay) is absent: Mirror keeps only its hash or seal (decision D38).
   */
  withCredentials(
    record: StreamRecord,
    issued?: Partial<StreamCredentials>,
  ): Promise<z.infer<ReturnType<typeof S.StreamWithCredentials>>>;
  /**
   * A state-changing route: each call's outcome, success or a typed refusal, is written to the audit log
   * under the route's operationId, with the caller and `target` (what it acted on; never a secret). An
   * unexpected error is not audited: it propagates to the app's 500.
   */
  auditedRoute<B, Q = Record<string, never>>(
    spec: RouteSpec<B, Q> & { readonly target: (call: RouteContext<B, Q>) => string },
  ): AnyRoute;
}

export interface ControlContextDeps {
  readonly redis: Redis;
  readonly logger: Logger;
  readonly srt: SrtEndpoint;
  /** The RTP port on the SRT host (decision D46); DEFAULT_RTP_PORT when absent. */
  readonly rtpPort?: number;
  readonly keys?: DataKeyProvider;
  readonly now?: () => Date;
  /** Where a change is told to the operator pages (D44); the events channel on `redis` by default. */
  readonly events?: OperatorEventPublisher;
}

export function controlContext(deps: ControlContextDeps): ControlContext {
  const registry = new StreamRegistry(deps.redis, deps.now, { keys: deps.keys });
  const audit = new AuditLog(deps.redis, deps.logger);
  const now = deps.now ?? (() => new Date());
  // The RTP listener shares the SRT listener's host (one NLB, a second UDP listener on AWS).
  const rtpDestination = { host: deps.srt.host, port: deps.rtpPort ?? DEFAULT_RTP_PORT };
  const publish = deps.events ?? redisEventPublisher(deps.redis, deps.logger);

  const view = async (records: readonly StreamRecord[]) => {
    const ids = records.map((r) => r.id);
    const [statuses, viewers, leases] = await Promise.all([
      registry.statuses(ids),
      viewerCounts(deps.redis, ids, now().getTime()),
      Promise.all(ids.map((id) => registry.leaseHolder(id))),
    ]);
    return records.map((record, i) => ({
      ...publicView(record),
      status: statusView(statuses[i], leases[i], record.id),
      viewers: viewers[i] ?? 0,
    }));
  };
  const one = async (record: StreamRecord) =>
    (await view([record]))[0] as z.infer<ReturnType<typeof S.StreamView>>;

  return {
    registry,
    audit,
    view,
    streamResponse: async (record) => jsonResponse(200, { stream: await one(record) }),
    async withCredentials(record, issued = {}) {
      const stream = await one(record);
      if (record.protocol === 'rtp') {
        if (issued.srtpKey === undefined) return { stream };
        return { stream, credentials: rtpCredentials(record, issued.srtpKey, rtpDestination) };
      }
      if (issued.publishKey === undefined && issued.passphrase === undefined) return { stream };
      // URLs only when every part they carry was issued now (an unencrypted stream needs no passphrase).
      const passphrase = issued.passphrase ?? (record.encrypted === true ? undefined : null);
      const urls =
        issued.publishKey !== undefined && passphrase !== undefined
          ? srtUrls({ ...record, publishKey: issued.publishKey, passphrase }, deps.srt)
          : undefined;
      return {
        stream,
        credentials: {
          ...(issued.publishKey === undefined ? {} : { publishKey: issued.publishKey }),
          ...(passphrase === undefined ? {} : { passphrase }),
          keyLength: record.keyLength,
          ...(urls === undefined ? {} : { srtUrl: urls.url, srtPlainKeyUrl: urls.plainKeyUrl }),
        },
      };
    },
    auditedRoute({ target, handle, ...spec }) {
      return route({
        ...spec,
        handle: async (call) => {
          let response: HttpResponse;
          try {
            response = await handle(call);
          } catch (error) {
            const refusal = toApiError(error);
            if (!refusal) throw error;
            response = respondError(refusal);
          }
          await audit.record({
            who: call.principal,
            action: spec.operationId,
            target: target(call),
            status: response.status,
            at: now().toISOString(),
          });
          // Every state-changing route is audited, so this one place tells the operator pages of each change (D44).
          if (response.status < 300)
            publish({ type: 'stream', streamId: call.params.streamId, action: spec.operationId });
          return response;
        },
      });
    },
  };
}

/**
 * An RTP stream's credentials as issued (decision D46): the destination, the SRTP key (null: plain RTP), the SDP for
 * elementary payloads and a ready ffmpeg command; the SDP and the command carry the key, so they too are shown once.
 */
function rtpCredentials(
  record: StreamRecord,
  srtpKey: string | null,
  destination: { readonly host: string; readonly port: number },
): z.infer<ReturnType<typeof S.Credentials>> {
  const settings = { streamId: record.id, payload: record.rtp?.payload ?? 'mp2t', destination, srtpKey };
  const sdp = encoderSdp(settings);
  return {
    keyLength: record.keyLength,
    srtpKey,
    ...(srtpKey === null ? {} : { srtpSuite: SRTP_SUITE }),
    rtpUrl: rtpUrl(destination),
    ...(sdp === undefined ? {} : { sdp: renderSdp(sdp) }),
    ffmpeg: encoderCommand(settings),
  };
}

/** 409 for an operation whose AWS service this deployment does not have (the embedded default). */
export function notConfigured(message: string, field: string): ApiError {
  return new ApiError(409, 'not_configured', message, field);
}
