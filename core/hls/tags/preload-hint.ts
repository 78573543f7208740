import { attributeTag, enumerated, quoted } from './attributes.js';

/** EXT-X-PRELOAD-HINT: a resource the server is about to publish; a client may request it now. */
export interface PreloadHint {
  readonly type: 'PART' | 'MAP';
  readonly uri: string;
}

export const renderPreloadHint = (hint: PreloadHint): string =>
  attributeTag('EXT-X-PRELOAD-HINT', { TYPE: enumerated(hint.type), URI: quoted(hint.uri) });
