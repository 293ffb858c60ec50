/**
 * What a command handler module gives the engine's `send`: for each SDK command class, the
 * operation's name (for fault injection and errors) and the function answering its input.
 */
import type { Repository } from '../repository';
import type { ResourceLifecycle } from '../lifecycle';

export type Input = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
export type Handler = (input: Input) => Promise<Record<string, unknown>>;

export interface CommandHandler {
  readonly command: unknown;
  readonly operation: string;
  readonly handle: Handler;
}

/** What every handler module works with: the resources' lifecycle and their documents. */
export interface CommandContext {
  readonly resources: ResourceLifecycle;
  readonly repo: Repository;
}
