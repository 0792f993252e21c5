/**
 * What the shutdown gate and /health need from the intake. A token instead of
 * the class keeps them loadable without the SQS consumer (tests of the worker side).
 */
export interface IntakeControl {
  readonly isRunning: boolean;
  /** Why the last receive failed, while it keeps failing; undefined when healthy. */
  readonly lastReceiveError: string | undefined;
  /** Stops receiving and waits for the messages already being handled. */
  drain(): Promise<void>;
}

export const INTAKE_CONTROL = Symbol('INTAKE_CONTROL');
