// A timer for any delay: Node's setTimeout holds at most 2^31−1 ms (~24.8 days) and
// fires after 1 ms when given more (with a TimeoutOverflowWarning), so a long
// `--duration` re-arms in steps until its deadline has come.

/** The longest delay setTimeout takes. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Calls `fire` once `ms` milliseconds from now (unref'd: it does not keep the process
 * alive by itself). Returns a function that cancels it.
 */
export function setLongTimeout(ms: number, fire: () => void): () => void {
  const deadline = Date.now() + ms;
  let timer: NodeJS.Timeout;
  const arm = (): void => {
    const left = deadline - Date.now();
    if (left <= MAX_TIMER_MS) {
      timer = setTimeout(fire, Math.max(0, left)).unref();
      return;
    }
    timer = setTimeout(arm, MAX_TIMER_MS).unref();
  };
  arm();
  return () => clearTimeout(timer);
}
