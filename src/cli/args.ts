// A small, strict argument parser: every command declares its options; anything
// unknown is a usage error that names the option, as tcpdump and git do.
import { UserError } from './errors.js';

export interface OptionSpec {
  /** long name without dashes, e.g. 'ssh-config' */
  name: string;
  /** one-letter alias, e.g. 'i' */
  short?: string;
  /** 'flag' takes no value; 'string' takes one; 'list' may repeat */
  kind: 'flag' | 'string' | 'list';
}

export interface ParsedArgs {
  flags: Set<string>;
  values: Map<string, string>;
  lists: Map<string, string[]>;
  positionals: string[];
}

export function parseArgs(
  argv: readonly string[],
  specs: readonly OptionSpec[],
  command: string,
): ParsedArgs {
  const byLong = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short as string, s]));
  const out: ParsedArgs = { flags: new Set(), values: new Map(), lists: new Map(), positionals: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    let spec: OptionSpec | undefined;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      if (eq >= 0) inline = arg.slice(eq + 1);
      spec = byLong.get(name);
      if (!spec) throw new UserError(`${command}: unknown option --${name} (see hopscope ${command} --help)`);
    } else if (arg.startsWith('-') && arg.length > 1) {
      spec = byShort.get(arg[1]);
      if (!spec) throw new UserError(`${command}: unknown option ${arg} (see hopscope ${command} --help)`);
      if (arg.length > 2) inline = arg.slice(2);
    } else {
      out.positionals.push(arg);
      continue;
    }
    if (spec.kind === 'flag') {
      if (inline !== undefined) throw new UserError(`${command}: --${spec.name} takes no value`);
      out.flags.add(spec.name);
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UserError(`${command}: --${spec.name} needs a value`);
    if (spec.kind === 'string') {
      if (out.values.has(spec.name)) throw new UserError(`${command}: --${spec.name} given twice`);
      out.values.set(spec.name, value);
    } else {
      const list = out.lists.get(spec.name) ?? [];
      list.push(value);
      out.lists.set(spec.name, list);
    }
  }
  return out;
}

/** A number option with bounds, or the default; a clear message when it is not a number. */
export function numberOption(
  args: ParsedArgs,
  name: string,
  command: string,
  fallback: number | undefined,
  min = 0,
): number | undefined {
  const raw = args.values.get(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min)
    throw new UserError(`${command}: --${name} must be a number ≥ ${min}, got '${raw}'`);
  return n;
}

/**
 * A file name option's value, undefined when it is not given. An empty name (an unset
 * shell variable, most likely) is refused; `shown` is how the message names the option.
 */
export function fileNameOption(
  args: ParsedArgs,
  name: string,
  command: string,
  shown = `--${name}`,
): string | undefined {
  const value = args.values.get(name);
  if (value === '')
    throw new UserError(`${command}: ${shown} needs a file name, and '' was given (an unset variable?)`);
  return value;
}
