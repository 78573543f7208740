import type { MediaPlaylist, MultivariantPlaylist } from './model.js';
import {
  renderDiscontinuity,
  renderDiscontinuitySequence,
  renderEndList,
  renderHeader,
  renderIndependentSegments,
  renderInf,
  renderMediaSequence,
  renderProgramDateTime,
  renderTargetDuration,
  renderVersion,
} from './tags/basic.js';
import { renderMap } from './tags/map.js';
import { renderPart } from './tags/part.js';
import { renderPartInf } from './tags/part-inf.js';
import { renderPreloadHint } from './tags/preload-hint.js';
import { renderRenditionReport } from './tags/rendition-report.js';
import { renderServerControl } from './tags/server-control.js';
import { renderSkip } from './tags/skip.js';
import { renderStreamInf } from './tags/stream-inf.js';

/** Renders a media playlist model to text. Tag order follows RFC 8216bis section 4.4. */
export function renderMediaPlaylist(playlist: MediaPlaylist): string {
  const lines: string[] = [renderHeader(), renderVersion(playlist.version)];
  lines.push(renderTargetDuration(playlist.targetDurationS));
  if (playlist.serverControl !== undefined) lines.push(renderServerControl(playlist.serverControl));
  if (playlist.partInf !== undefined) lines.push(renderPartInf(playlist.partInf));
  lines.push(renderMediaSequence(playlist.mediaSequence));
  lines.push(renderDiscontinuitySequence(playlist.discontinuitySequence));
  if (playlist.skip !== undefined) lines.push(renderSkip(playlist.skip));
  for (const segment of playlist.segments) {
    if (segment.discontinuity) lines.push(renderDiscontinuity());
    if (segment.map !== undefined) lines.push(renderMap(segment.map));
    if (segment.programDateTimeMs !== undefined) lines.push(renderProgramDateTime(segment.programDateTimeMs));
    for (const part of segment.parts) lines.push(renderPart(part));
    lines.push(renderInf(segment.durationS, segment.uri));
  }
  const open = playlist.open;
  if (open !== undefined) {
    if (open.discontinuity) lines.push(renderDiscontinuity());
    if (open.map !== undefined) lines.push(renderMap(open.map));
    if (open.programDateTimeMs !== undefined) lines.push(renderProgramDateTime(open.programDateTimeMs));
    for (const part of open.parts) lines.push(renderPart(part));
  }
  for (const hint of playlist.preloadHints) lines.push(renderPreloadHint(hint));
  if (playlist.endList) lines.push(renderEndList());
  for (const report of playlist.renditionReports) lines.push(renderRenditionReport(report));
  return `${lines.join('\n')}\n`;
}

export function renderMultivariantPlaylist(playlist: MultivariantPlaylist): string {
  const lines: string[] = [renderHeader(), renderVersion(playlist.version)];
  if (playlist.independentSegments) lines.push(renderIndependentSegments());
  for (const variant of playlist.variants) lines.push(renderStreamInf(variant));
  return `${lines.join('\n')}\n`;
}
