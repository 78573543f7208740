/** Attempts of one storage or Redis call of the recorder or the DVR before it gives up on it. */
export const STORAGE_ATTEMPTS = 3;

/** A storage or Redis call, tried STORAGE_ATTEMPTS times with a growing pause: one slow answer is no gap. */
export async function retried<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt === STORAGE_ATTEMPTS) throw error;
      await new Promise((r) => setTimeout(r, 100 * attempt));
    }
  }
}
