// Many interfaces of one host captured over ssh at once. sshd closes connections
// beyond its MaxStartups (default 10:30:100: 30 % of new unauthenticated ones from 10
// on), so a capture that opened one ssh per interface all at once lost some of them
// at random ("kex_exchange_identification: Connection closed by remote host"). The
// lab's sshd runs with the defaults, as a real host's does.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { labDown, labUp, type LabView } from '../../src/lab/index.js';
import { jsonRecords, startCli } from '../support/cli-process.js';
import { downAllLabs, inNetns, requireRoot, runPrefix } from '../lab/support/lab-env.js';

const PREFIX = runPrefix('rmany');
const COUNT = 60;
let lab: LabView | null = null;

beforeAll(() => requireRoot());
afterAll(async () => {
  if (lab !== null) await labDown(lab.prefix);
  await downAllLabs(PREFIX);
}, 120_000);

it(`${COUNT} interfaces of one host over ssh at once: every one up, none refused`, async () => {
  lab = await labUp('sdn-vxlan', { prefix: PREFIX });
  const host = lab.hosts[0];
  // veth pairs inside the host's namespace: both ends captured
  const names = Array.from({ length: COUNT }, (_, i) => `hsv${i >> 1}${i % 2 === 0 ? 'a' : 'b'}`);
  for (let i = 0; i < COUNT; i += 2) {
    const r = await inNetns(host.netns, [
      'ip',
      'link',
      'add',
      names[i],
      'type',
      'veth',
      'peer',
      'name',
      names[i + 1],
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    for (const name of [names[i], names[i + 1]])
      expect((await inNetns(host.netns, ['ip', 'link', 'set', name, 'up'])).exitCode).toBe(0);
  }
  const cli = startCli([
    'capture',
    '--ssh-config',
    lab.sshConfigPath,
    ...names.flatMap((n) => ['-i', `${host.sshName}:${n}`]),
    '--json',
  ]);
  try {
    await cli.waitForLine(
      () => jsonRecords(cli.lines).filter((r) => r.type === 'state' && r.state === 'up').length >= COUNT,
      200_000,
    );
    const up = jsonRecords(cli.lines).filter((r) => r.type === 'state' && r.state === 'up');
    expect(cli.stderr()).not.toMatch(/kex_exchange_identification|Connection closed/);
    expect(up).toHaveLength(COUNT);
    cli.child.kill('SIGINT');
    const status = await cli.exited;
    expect(status).toBe(0);
  } finally {
    if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL');
  }
}, 300_000);
