/**
 * What the local runner tells a person while it works. The workflow starter turns the
 * interpreter's event log into these; the engine's progress hook adds training progress;
 * local/progress.ts displays them.
 */
export type RunEvent =
  | { readonly kind: 'execution-started'; readonly name: string; readonly at: number }
  | { readonly kind: 'execution-ended'; readonly name: string; readonly status: 'SUCCEEDED' | 'FAILED'; readonly at: number; readonly error?: string; readonly cause?: string }
  | { readonly kind: 'state-entered'; readonly state: string; readonly type: string; readonly at: number }
  | { readonly kind: 'state-exited'; readonly state: string; readonly type: string; readonly at: number }
  | { readonly kind: 'state-failed'; readonly state: string; readonly error: string; readonly cause: string; readonly at: number }
  | { readonly kind: 'state-retried'; readonly state: string; readonly attempt: number; readonly error: string; readonly at: number }
  | { readonly kind: 'state-caught'; readonly state: string; readonly next: string; readonly error: string; readonly at: number }
  | { readonly kind: 'training'; readonly resource: string; readonly done: number; readonly total: number; readonly at: number; readonly phase?: string }
  | { readonly kind: 'note'; readonly message: string; readonly at: number };

export type RunEventListener = (event: RunEvent) => void;
