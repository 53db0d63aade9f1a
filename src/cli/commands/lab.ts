// `hopscope lab list|up|down|status`: the namespace lab (README "The lab").
import { parseArgs, type OptionSpec, type ParsedArgs } from '../args.js';
import { EXIT_OK, UserError } from '../errors.js';
import {
  captureCommand,
  DEFAULT_PREFIX,
  formatLabStatus,
  formatScenarioList,
  getScenario,
  labDown,
  labStatus,
  labUp,
  listScenarios,
  shellLine,
  trafficArgv,
  type LabStatus,
} from '../../lab/index.js';

const OPTIONS: OptionSpec[] = [
  { name: 'fault', kind: 'string' },
  { name: 'prefix', kind: 'string' },
  { name: 'json', kind: 'flag' },
];

const SUBCOMMANDS = ['list', 'up', 'down', 'status'] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];

function isSubcommand(word: string | undefined): word is Subcommand {
  return (SUBCOMMANDS as readonly string[]).includes(word ?? '');
}

export async function runLab(argv: string[]): Promise<number> {
  const args = parseArgs(argv, OPTIONS, 'lab');
  const [sub, ...rest] = args.positionals;
  if (!isSubcommand(sub)) {
    throw new UserError(
      sub === undefined
        ? 'lab: say what to do: list, up, down or status (see hopscope lab --help)'
        : `lab: unknown subcommand '${sub}' (list, up, down, status)`,
    );
  }
  if (rest.length > 1) throw new UserError(`lab ${sub}: one scenario at most, got ${rest.join(' ')}`);
  const scenario = rest[0];
  if (args.values.has('fault') && sub !== 'up')
    throw new UserError(`lab ${sub}: --fault only goes with 'lab up'`);
  switch (sub) {
    case 'list':
      return list(args);
    case 'up':
      return up(args, scenario);
    case 'down':
      return down(args, scenario);
    case 'status':
      return status(args, scenario);
  }
}

function list(args: ParsedArgs): number {
  const scenarios = listScenarios();
  process.stdout.write(
    args.flags.has('json') ? `${JSON.stringify(scenarios, null, 2)}\n` : formatScenarioList(scenarios),
  );
  return EXIT_OK;
}

async function up(args: ParsedArgs, scenario: string | undefined): Promise<number> {
  if (scenario === undefined)
    throw new UserError(
      `lab up: which scenario? (${listScenarios()
        .map((s) => s.name)
        .join(', ')})`,
    );
  const prefix = args.values.get('prefix') ?? DEFAULT_PREFIX;
  // Ctrl-C while building: stop and remove what was built rather than leave half a lab.
  const interrupt = new AbortController();
  const onSignal = (): void => interrupt.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await labUp(scenario, { fault: args.values.get('fault') ?? null, prefix, signal: interrupt.signal });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const [lab] = await labStatus({ prefix });
  printStatuses(lab ? [lab] : [], args.flags.has('json'));
  return EXIT_OK;
}

async function down(args: ParsedArgs, scenario: string | undefined): Promise<number> {
  if (scenario !== undefined) getScenario(scenario);
  const prefix = args.values.get('prefix') ?? DEFAULT_PREFIX;
  const [lab] = await labStatus({ prefix });
  if (lab !== undefined && scenario !== undefined && lab.scenario !== scenario) {
    throw new UserError(`lab down: the lab with prefix '${prefix}' is ${lab.scenario}, not ${scenario}`);
  }
  const result = await labDown(prefix);
  if (!result.found) {
    const others = (await labStatus()).map((l) => `${l.prefix === '' ? "''" : l.prefix} (${l.scenario})`);
    const hint = others.length > 0 ? `; labs up: ${others.join(', ')} — use --prefix` : '';
    process.stdout.write(`lab: nothing to take down: no lab is up with prefix '${prefix}'${hint}\n`);
    return EXIT_OK;
  }
  const what = result.scenario ?? 'a lab interrupted before it recorded anything';
  process.stdout.write(
    `lab ${what} (prefix '${prefix}') is down: removed ${result.namespacesDeleted.length} namespaces\n`,
  );
  return EXIT_OK;
}

async function status(args: ParsedArgs, scenario: string | undefined): Promise<number> {
  if (scenario !== undefined) getScenario(scenario);
  const prefix = args.values.get('prefix');
  const labs = (await labStatus(prefix === undefined ? {} : { prefix })).filter(
    (l) => scenario === undefined || l.scenario === scenario,
  );
  if (labs.length === 0 && !args.flags.has('json')) {
    process.stdout.write("lab: no lab is up (start one with 'hopscope lab up SCENARIO')\n");
    return EXIT_OK;
  }
  printStatuses(labs, args.flags.has('json'));
  return EXIT_OK;
}

function printStatuses(labs: LabStatus[], json: boolean): void {
  if (json) {
    // The same ready-to-paste lines the text shows, for scripts.
    const withCommands = labs.map((lab) => ({
      ...lab,
      commands: {
        traffic: lab.traffic.map((t) => shellLine(trafficArgv(t))),
        capture: shellLine(captureCommand(lab, false)),
        captureOverSsh: shellLine(captureCommand(lab, true)),
      },
    }));
    process.stdout.write(`${JSON.stringify(withCommands, null, 2)}\n`);
    return;
  }
  process.stdout.write(labs.map(formatLabStatus).join('\n'));
}
