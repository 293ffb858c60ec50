export const ROOT: string;
export const LAYER_PACKAGE: string;
export const HEAVY_PACKAGES: string[];
export const VENDORED_PACKAGES: string[];
export const LEFT_OUT_PACKAGES: string[];
export const LAMBDA_PLATFORM: { os: string; arch: string; libc: string };
export function isForeignBinary(file: string, platform?: { os: string; arch: string; libc: string }): boolean;
export function listSteps(root?: string): Promise<string[]>;
export function sharedImports(steps: string[], root?: string): Promise<Map<string, Set<string>>>;
export function layerEntry(byModule: Map<string, Set<string>>, root?: string): string;
export function buildFunction(step: string, outdir: string, root?: string): Promise<string>;
export function buildLayer(outdir: string, options?: { vendor?: boolean; root?: string }): Promise<string>;
export function vendorPackages(names: string[], modules: string[] | string, root?: string): Promise<number>;
export function buildAll(
  outdir?: string,
  options?: { vendor?: boolean; root?: string },
): Promise<{ functions: Record<string, number>; layerBundle: number; layerTotal: number }>;
