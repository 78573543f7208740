/**
 * CloudWatch metric names Mirror emits (embedded metric format) and the infrastructure's dashboard and alarms read.
 * Namespace `Mirror`. Every metric carries `Stage` (MIRROR_STAGE) and Powertools' `service` (ingest, manifest,
 * session, control); per-stream metrics add `StreamId`. The dashboard and alarms read exactly these dimension sets:
 * - task or function level: { service, Stage }
 * - per stream: { service, Stage, StreamId } (dashboards use SEARCH, alarms a Metrics Insights query)
 * See docs/infrastructure.md.
 */
export const METRIC_NAMESPACE = 'Mirror';
export const METRIC_DIMENSION_STAGE = 'Stage';
/** Added by Powertools from its serviceName. */
export const METRIC_DIMENSION_SERVICE = 'service';
export const METRIC_DIMENSION_STREAM = 'StreamId';
export const MetricServices = {
  ingest: 'ingest',
  manifest: 'manifest',
  session: 'session',
  control: 'control',
} as const;

export const MetricNames = {
  /** Emitted by the ingest tasks (service `ingest`). */
  ingest: {
    /** Bits per second received over SRT, per stream (unit Bits/Second). */
    bitrate: 'IngestBitrate',
    /** SRT receive loss, percent of packets, per stream. */
    srtLossPercent: 'SrtLossPercent',
    /** SRT round-trip time, milliseconds, per stream. */
    srtRttMs: 'SrtRttMs',
    /** Transcoder speed as a multiple of real time (1.0 = keeping up), per stream. */
    transcoderSpeed: 'TranscoderSpeed',
    /** Milliseconds from a part's last frame leaving the encoder to the part being published (S3 + Redis); task level. */
    partPublishLatencyMs: 'PartPublishLatencyMs',
    /** Streams a task is publishing right now (one value per task per minute; Sum over tasks = all streams). */
    activeStreams: 'ActiveStreams',
    /** Share of the task's NVENC session slots in use, percent; drives step scaling. */
    sessionUtilization: 'IngestSessionUtilization',
    /** Count, 1 each time a publishing stream stops unexpectedly (encoder gone, stall, transcoder exit); per stream. */
    streamDown: 'StreamDown',
    /**
     * Parts published to the live state, task level, on every task line (0 included, decision D21): with
     * ActiveStreams it drives the "no parts published" alarm, where silence (no line at all) is an outage.
     */
    partsPublished: 'PartsPublished',
    /** Media writes given up after their retries (parts, segments, init segments), task level, on every task line. */
    storageWriteFailures: 'StorageWriteFailures',
    /** Parts never listed (write failed, write queue full, no init, waiting for a keyframe), task level. */
    partsLost: 'PartsLost',
    /** Live-state publishes that failed (Redis unreachable or refusing), task level, on every task line. */
    publishFailures: 'LivePublishFailures',
    /**
     * GPU (SM) utilisation, percent, busiest GPU the task sees (nvidia-smi `utilization.gpu`); task level, one
     * value per MIRROR_GPU_SAMPLE_S (10 s) and only on tasks using the GPU path (containers/ingest/src/gpu-utilization.ts).
     */
    gpuUtilizationPercent: 'GpuUtilizationPercent',
    /** NVENC engine utilisation, percent (`utilization.encoder`), as GpuUtilizationPercent; absent where N/A. */
    gpuEncoderUtilizationPercent: 'GpuEncoderUtilizationPercent',
    /** NVDEC engine utilisation, percent (`utilization.decoder`), as GpuUtilizationPercent; absent where N/A. */
    gpuDecoderUtilizationPercent: 'GpuDecoderUtilizationPercent',
    /** Input A/V offset, ms (audio PTS minus video PTS of media arriving together, decision D42); per stream. */
    inputAvOffsetMs: 'InputAvOffsetMs',
    /** Input A/V drift, ms per minute (slope of the offset over 2 minutes, decision D42); per stream. */
    inputAvDriftMsPerMinute: 'InputAvDriftMsPerMinute',
    /** Input GOP length (keyframe to keyframe), ms, latest GOP; per stream. */
    inputGopMs: 'InputGopMs',
    /** Standard deviation of the input's frame intervals (DTS), ms, last 300 frames; per stream. */
    inputFrameJitterMs: 'InputFrameJitterMs',
    /** MPEG-TS continuity counter errors in the input since the last stream line, count; per stream. */
    inputContinuityErrors: 'InputContinuityErrors',
    /** The ingest input queue's occupancy, percent of its bound (MIRROR_MAX_BUFFER_MB); per stream. */
    inputQueuePercent: 'InputQueuePercent',
  },
  /** Emitted by the manifest function (service `manifest`), function level. */
  manifest: {
    /** Milliseconds to answer a playlist request, including any blocking wait. */
    playlistLatencyMs: 'PlaylistLatencyMs',
    /** Milliseconds a blocking playlist reload (_HLS_msn/_HLS_part) or held part request waited. */
    blockingWaitMs: 'BlockingWaitMs',
    /**
     * Count of waits that ran out: a blocking playlist reload (503 after three target durations) or a held
     * preload-hinted part (404 after three part targets).
     */
    blockingTimeouts: 'BlockingTimeouts',
  },
} as const;
