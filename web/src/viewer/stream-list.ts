// The stream picker beside the wall: every stream the viewer may watch with its live dot; a click puts it on the wall.
import { STREAM_LIST_PATH } from '../../../core/contracts/api-paths.js';
import { ENTITLED_STREAM_LIST_PATH } from '../../../core/contracts/stream-list.js';
import { text } from '../dom.js';
import { entitlementHeaders } from './entitlement.js';
import type { PublicStream } from './model.js';

/**
 * The stream list, or undefined when the session API does not answer it: the public one (cached at the edge), or
 * with an entitlement the viewer's own (public and entitled private streams, never cached; D36). `refused`: the
 * entitlement is expired or invalid (401).
 */
export async function fetchStreams(entitlement?: string): Promise<PublicStream[] | 'refused' | undefined> {
  const path = entitlement ? ENTITLED_STREAM_LIST_PATH : STREAM_LIST_PATH;
  const response = await fetch(path, { headers: entitlementHeaders(entitlement) });
  if (entitlement && response.status === 401) return 'refused';
  if (!response.ok) return undefined;
  return ((await response.json()) as { streams: PublicStream[] }).streams;
}

/** A stream's latest picture (D41): removed when it is not there yet (the first second of a publish). */
function thumbnail(url: string): HTMLImageElement {
  const img = document.createElement('img');
  img.className = 'thumb';
  img.src = url;
  img.alt = '';
  img.onerror = () => img.remove();
  return img;
}

export function renderStreamList(
  list: HTMLElement,
  streams: readonly PublicStream[],
  onPick: (streamId: string) => void,
): void {
  list.replaceChildren(
    ...streams.map((s) => {
      const li = document.createElement('li');
      li.dataset.stream = s.id;
      li.append(text('span', '', `dot ${s.live ? 'live' : 'offline'}`), text('span', s.name));
      if (s.thumbnailUrl) li.prepend(thumbnail(s.thumbnailUrl));
      li.addEventListener('click', () => onPick(s.id));
      return li;
    }),
  );
}
