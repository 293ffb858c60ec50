// Worker thread bootstrap when the engine runs from TypeScript sources: registers tsx, then loads worker.ts.
import { register } from 'tsx/esm/api';

register();
await import(new URL('./worker.ts', import.meta.url).href);
