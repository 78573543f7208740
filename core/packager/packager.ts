import type { RenditionTargets } from '../latency-profiles.js';
import type {
  ProducerStart,
  RenditionSink,
  RenditionSinkFactory,
  RenditionStorageReport,
} from '../media/rendition-sink.js';
import type { PackagerOptions } from './options.js';
import { RenditionPackager } from './rendition-packager.js';

/**
 * Turns each rung's fMP4 pipe into LL-HLS: splitter -> segmenter -> storage (part; segment when it closes) ->
 * live-state publish. Bytes are always stored before the publish that names them, and what could not be stored is
 * never named (decision D21).
 */
export class Packager implements RenditionSinkFactory {
  /** Open renditions per stream, for their storage reports; a rendition leaves when it ends. */
  private readonly sinks = new Map<string, Map<string, RenditionPackager>>();

  constructor(private readonly options: PackagerOptions) {}

  open(
    streamId: string,
    rendition: string,
    start?: ProducerStart,
    targets?: RenditionTargets,
  ): RenditionSink {
    const options = targets === undefined ? this.options : { ...this.options, ...targets };
    const sink = new RenditionPackager(streamId, rendition, options, start, () => {
      const stream = this.sinks.get(streamId);
      if (stream?.get(rendition) !== sink) return;
      stream.delete(rendition);
      if (stream.size === 0) this.sinks.delete(streamId);
    });
    const stream = this.sinks.get(streamId) ?? new Map<string, RenditionPackager>();
    stream.set(rendition, sink);
    this.sinks.set(streamId, stream);
    return sink;
  }

  storage(streamId: string): readonly RenditionStorageReport[] {
    return [...(this.sinks.get(streamId)?.values() ?? [])].map((s) => s.storage());
  }
}
