#!/usr/bin/env node
// Runs the TypeScript CLI without a build step: tsx registers a loader, then the CLI loads.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../local/cli.ts');
process.exitCode = await main(process.argv.slice(2));
