/**
 * What the shutdown gate and /health need from the intake. A token instead of
 * the class keeps them loadable without the SQS consumer (tests of the worker side).
 */
export interface IntakeControl {
  /** Receiving from SQS right now (false while paused or drained). */
  readonly isRunning: boolean;
  /** Why the last receive failed, while it keeps failing; undefined when healthy. */
  readonly lastReceiveError: string | undefined;
  /**
   * Why the intake stopped receiving on its own (the database or the scheduler is down), until it
   * resumes; undefined otherwise. Readiness should report not-ready while this is set.
   */
  readonly pausedReason: string | undefined;
  /** The last handler failure (any message), cleared by the next success; for diagnostics. */
  readonly lastHandlerError: string | undefined;
  /** Stops receiving and waits for the messages already being handled. */
  drain(): Promise<void>;
}

export const INTAKE_CONTROL = Symbol('INTAKE_CONTROL');
