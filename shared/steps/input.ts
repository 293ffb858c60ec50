/** Step input validation at the edge: the state document every step Lambda receives. */
import type { z } from 'zod';
import { InvalidInput } from '../errors';
import { pipelineStateSchema, type PipelineState } from '../state';

/** Formats zod issues as `path: message` lines, naming the field that is wrong. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`);
}

/** Parses a step's event as the pipeline state; throws InvalidInput naming each bad field. */
export function parsePipelineState(event: unknown): PipelineState {
  const parsed = pipelineStateSchema.safeParse(event);
  if (!parsed.success) {
    const issues = describeIssues(parsed.error);
    throw new InvalidInput(`Step input is not a pipeline state: ${issues.slice(0, 5).join('; ')}`, issues);
  }
  return parsed.data;
}
