import { attributeTag, float, integer, quoted, resolution } from './attributes.js';

/** EXT-X-STREAM-INF: one variant of the multivariant playlist, followed by its media playlist URI. */
export interface StreamInf {
  readonly uri: string;
  /** Peak bits per second over the measured segments. */
  readonly bandwidth: number;
  /** Average bits per second over the measured segments. */
  readonly averageBandwidth?: number;
  readonly codecs: readonly string[];
  readonly width?: number;
  readonly height?: number;
  readonly frameRate?: number;
}

export const renderStreamInf = (inf: StreamInf): string =>
  `${attributeTag('EXT-X-STREAM-INF', {
    BANDWIDTH: integer(Math.max(1, Math.ceil(inf.bandwidth))),
    'AVERAGE-BANDWIDTH':
      inf.averageBandwidth === undefined ? undefined : integer(Math.ceil(inf.averageBandwidth)),
    CODECS: inf.codecs.length > 0 ? quoted(inf.codecs.join(',')) : undefined,
    RESOLUTION:
      inf.width !== undefined && inf.height !== undefined ? resolution(inf.width, inf.height) : undefined,
    'FRAME-RATE': inf.frameRate === undefined ? undefined : float(inf.frameRate),
  })}\n${inf.uri}`;
