// N simulated LL-HLS clients in one process (no decoding), as bench/llhls-clients.ts runs them.
// Run by bench/scale-sim.ts: node --import tsx bench/scale-client.ts <baseUrl> <playlistPath> <clients> <seconds>
import { runLlhlsClients } from './llhls-clients.js';

const [baseUrl = '', playlistPath = '', clientsArg = '10', secondsArg = '20'] = process.argv.slice(2);
const result = await runLlhlsClients({
  baseUrl,
  playlistPath,
  clients: Number(clientsArg),
  seconds: Number(secondsArg),
});
process.stdout.write(`${JSON.stringify(result)}\n`);
