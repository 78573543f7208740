/** Attempts of one recording storage or Redis call before the recorder gives up on it. */
export const RECORDING_ATTEMPTS = 3;

/** A storage or Redis call, tried RECORDING_ATTEMPTS times with a growing pause: one slow answer is no gap. */
export async function retried<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt === RECORDING_ATTEMPTS) throw error;
      await new Promise((r) => setTimeout(r, 100 * attempt));
    }
  }
}
