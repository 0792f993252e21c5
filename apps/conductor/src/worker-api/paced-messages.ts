import type { Observable } from 'rxjs';

/** The part of a grpc-js server stream that controls the flow of incoming messages. */
export interface PausableStream {
  pause(): unknown;
  resume(): unknown;
}

/**
 * Reads an Rx request stream one message at a time. Nest pushes messages as
 * they arrive; pausing the underlying call past `highWaterMark` queued
 * messages keeps a fast uploader from filling the conductor's memory while
 * the disk catches up.
 */
export async function* pacedMessages<T>(source: Observable<T>, stream?: PausableStream, highWaterMark = 8): AsyncGenerator<T> {
  const queue: T[] = [];
  let finished = false;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  let paused = false;
  const notify = (): void => {
    wake?.();
    wake = undefined;
  };
  const subscription = source.subscribe({
    next: (value) => {
      queue.push(value);
      if (stream && !paused && queue.length >= highWaterMark) {
        paused = true;
        stream.pause();
      }
      notify();
    },
    error: (error: unknown) => {
      failure = { error };
      notify();
    },
    complete: () => {
      finished = true;
      notify();
    },
  });
  try {
    for (;;) {
      const next = queue.shift();
      if (next !== undefined) {
        if (stream && paused && queue.length <= highWaterMark / 2) {
          paused = false;
          stream.resume();
        }
        yield next;
        continue;
      }
      if (failure) throw failure.error;
      if (finished) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    subscription.unsubscribe();
    if (stream && paused) stream.resume();
  }
}
