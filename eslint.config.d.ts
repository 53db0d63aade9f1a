// Types of what eslint.config.js exports, for the test of its import rule (test/lint/).
export declare const LAYERS: Readonly<Record<string, readonly string[]>>;
export declare const LAYER_EXCEPTIONS: ReadonlyArray<{ files: readonly string[]; also: readonly string[] }>;
declare const config: unknown;
export default config;
