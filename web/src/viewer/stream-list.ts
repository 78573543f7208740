// The stream picker beside the wall: every public stream with its live dot; a click puts it on the wall.
import { SESSIONS_PATH } from '../../../core/contracts/api-paths.js';
import { text } from '../dom.js';
import type { PublicStream } from './model.js';

/** The public stream list, or undefined when the session API does not answer it. */
export async function fetchPublicStreams(): Promise<PublicStream[] | undefined> {
  const response = await fetch(`${SESSIONS_PATH}/streams`);
  if (!response.ok) return undefined;
  return ((await response.json()) as { streams: PublicStream[] }).streams;
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
      li.addEventListener('click', () => onPick(s.id));
      return li;
    }),
  );
}
