/**
 * The seam between a producer of fragmented MP4 (the ingest transcoder, one pipe per rung)
 * and the LL-HLS packager that splits it into parts and publishes them.
 */
export interface RenditionSink {
  /** Bytes of the fMP4 stream exactly as ffmpeg writes them, in arbitrary chunks. */
  write(chunk: Uint8Array): void;
  /** The producer restarted (ffmpeg respawned, encoder reconnected): what follows starts with a new init segment and is a discontinuity. */
  restart(): void;
  /** The producer ended for good: close the open segment and publish what is complete. */
  end(): Promise<void>;
}

export interface RenditionSinkFactory {
  open(streamId: string, rendition: string): RenditionSink;
}
