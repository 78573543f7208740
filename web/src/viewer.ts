// The multi-view viewer: one hls.js player per tile, a session with the session API, heartbeats answered
// with the rendition each tile should play. Each tile loads the stream's multivariant playlist and the
// answer pins hls.js to that rendition (nextLevel: switches at the next segment boundary, no reload).
// The parts: viewer/session-wall.ts (session and wall), viewer/tile.ts and tile-player.ts (one tile),
// viewer/model.ts and tile-model.ts (their pure decisions).
import { Viewer } from './viewer/session-wall.js';

const wall = document.getElementById('wall');
const list = document.getElementById('streams');
const picker = document.getElementById('layout');
const budget = document.getElementById('budget');
if (wall && list && picker instanceof HTMLSelectElement && budget) {
  const viewer = new Viewer(wall, list, picker, budget);
  (window as unknown as { mirrorViewer: Viewer }).mirrorViewer = viewer;
  void viewer.start();
}
