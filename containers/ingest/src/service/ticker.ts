export interface Ticker {
  stop(): void;
}

/**
 * Runs `task` every `intervalMs`, never two at once: a tick that finds the previous run still going is skipped
 * (a slow Redis must not pile up status writes). A failed run goes to `onError`; the next tick runs as usual.
 */
export function startTicker(
  intervalMs: number,
  task: () => Promise<void>,
  onError: (error: unknown) => void,
): Ticker {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    task()
      .catch(onError)
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  return { stop: () => clearInterval(timer) };
}
