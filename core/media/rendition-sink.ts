/**
 * The seam between a producer of fragmented MP4 (the ingest transcoder, one pipe per rung)
 * and the LL-HLS packager that splits it into parts and publishes them.
 */
export interface RenditionSink {
  /** Bytes of the fMP4 stream exactly as ffmpeg writes them, in arbitrary chunks. */
  write(chunk: Uint8Array): void;
  /** The producer restarted (ffmpeg respawned, encoder reconnected): what follows starts with a new init segment and is a discontinuity. */
  restart(start?: ProducerStart): void;
  /** The producer ended for good: close the open segment and publish what is complete. */
  end(): Promise<void>;
}

/** What the producer knows about the run whose output follows (given at open and at each restart). */
export interface ProducerStart {
  /**
   * Wall clock (epoch ms) when the first input bytes of this producer run arrived at ingest: the output's decode
   * time 0 is stamped with it (EXT-X-PROGRAM-DATE-TIME) unless ingestClock knows better. Without either the
   * packager uses the time the first fragment reached it, which runs ahead of the source by the encoder's delay.
   */
  readonly ingestAnchorMs?: number;
  /**
   * A better estimate of the same, read when the run's init segment arrives (the producer keeps learning while
   * ffmpeg probes): the wall clock of the run's media time zero. Falls back to ingestAnchorMs when undefined.
   */
  readonly ingestClock?: () => number | undefined;
}

export interface RenditionSinkFactory {
  open(streamId: string, rendition: string, start?: ProducerStart): RenditionSink;
}
