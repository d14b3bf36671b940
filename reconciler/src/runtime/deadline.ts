/**
 * Runs `action` with a deadline: after `ms` its signal is aborted and the call rejects with `expired()`,
 * whether or not the action honours the signal (an engine that accepts and never answers).
 */
export async function withDeadline<T>(
  ms: number,
  expired: () => Error,
  action: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      const error = expired();
      controller.abort(error);
      reject(error);
    }, ms);
  });
  try {
    return await Promise.race([action(controller.signal), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
