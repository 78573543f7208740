/**
 * Maps a stack trace a deployed function printed outside its logger (an init failure, an error the Lambda runtime
 * logged itself) to source positions, as the functions' logger does for the errors it writes (D47, amended: the
 * functions run without --enable-source-maps). The map is the function's `index.mjs.map`: in the deployed code
 * (`aws lambda get-function`'s Code.Location zip) or in `cdk.out/asset.<hash>/` of the synth that deployed it.
 *
 * Run: npm run map-stack -- <index.mjs.map> [bundle URL, default file:///var/task/index.mjs] < stack.txt
 */
import { readFileSync } from 'node:fs';
import { bundleStackMapper } from '../core/adapters/stack-map.js';

const [mapFile, bundleUrl = 'file:///var/task/index.mjs'] = process.argv.slice(2);
if (mapFile === undefined) {
  console.error('usage: npm run map-stack -- <index.mjs.map> [bundle URL] < stack.txt');
  process.exit(2);
}
process.stdout.write(bundleStackMapper(bundleUrl, mapFile)(readFileSync(0, 'utf8')));
