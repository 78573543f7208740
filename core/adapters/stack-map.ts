import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * Readable stack traces for a bundled function without `--enable-source-maps` (decision D47, amended). With the flag,
 * Node reads and indexes the bundle's source map while it loads the bundle: 15-25 % of every cold start, for stacks
 * that only errors need. Turning it on later does not help: Node (20 and 22 alike) maps only modules loaded after it
 * was turned on, and the bundle is the one module. So the functions' logger maps the stacks it writes itself, with
 * the `.map` file the bundle ships beside it, read on the first stack and kept: the instance that logs an error pays a
 * few milliseconds once, the others nothing.
 *
 * A frame in the bundle (`file:///var/task/index.mjs:1:2345`) becomes its source position, relative to the
 * repository (`core/adapters/secrets.ts:165:41`); frames elsewhere (node: internals, the runtime) are left as they
 * are, and so is every frame when there is no map (the code runs from source: tests, the local platform).
 */
export type StackMapper = (stack: string) => string;

const FRAME = /(file:\/\/[^\s()]+?):(\d+):(\d+)/g;

/**
 * A mapper for stacks through `<bundle file>.map`; `bundleUrl` is the bundle's `import.meta.url`. `mapFile` elsewhere:
 * mapping a stack offline (scripts/map-stack.ts, docs/operations.md "Logs").
 */
export function bundleStackMapper(bundleUrl: string, mapFile?: string): StackMapper {
  let map: SourceMap | null | undefined;
  const load = (): SourceMap | null => {
    if (map !== undefined) return map;
    try {
      map = new SourceMap(JSON.parse(readFileSync(mapFile ?? `${fileURLToPath(bundleUrl)}.map`, 'utf8')));
    } catch {
      // No map beside the module (run from source), or an unreadable one: stacks stay as V8 wrote them.
      map = null;
    }
    return map;
  };
  return (stack) => {
    if (!stack.includes(bundleUrl)) return stack;
    const sourceMap = load();
    if (sourceMap === null) return stack;
    return stack.replace(FRAME, (frame, url: string, line: string, column: string) => {
      if (url !== bundleUrl) return frame;
      const entry = sourceMap.findEntry(Number(line) - 1, Number(column) - 1) as {
        originalSource?: string;
        originalLine?: number;
        originalColumn?: number;
      };
      if (entry.originalSource === undefined || entry.originalLine === undefined) return frame;
      return `${sourcePath(entry.originalSource)}:${entry.originalLine + 1}:${(entry.originalColumn ?? 0) + 1}`;
    });
  };
}

/**
 * A map's source as a repository path: esbuild writes them relative to the bundle's folder (`../../core/x.ts`), and
 * Node's SourceMap may have made them file URLs; what follows the last `../` (or the checkout's folder) is the path.
 */
function sourcePath(source: string): string {
  const relative = source.replace(/^file:\/\//, '').replace(/^(?:.*\/)?\.\.\//, '');
  const inRepo = /\/((?:core|functions|containers|infra|local)\/.*)$/.exec(relative);
  return inRepo ? inRepo[1]! : relative;
}
