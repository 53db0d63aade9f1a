// Cloud identities resolved on a dvr-fip lab built for real (as root): each form names
// the lab's interfaces as a real cloud names them — on this machine and over ssh on the
// compute host — and one that names nothing exits 2 listing what exists. Resolution
// only: nothing is captured (other labs running meanwhile have the same names; only
// this lab's are looked at).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labUp, type LabView } from '../../src/lab/index.js';
import { identityTargets } from '../../src/path/identity.js';
import { CaptureSession } from '../../src/sources/capture-session.js';
import { parseSpec } from '../../src/sources/spec.js';
import { downAllLabs, requireRoot, runPrefix } from '../lab/support/lab-env.js';
import { runCli } from '../support/run-cli.js';

const PREFIX = runPrefix('idn');
const ROUTER = '6f774e8e-2f5b-4c1d-9a3e-0b1c2d3e4f50';
const FIP = 'fip-2b9c3e1a-7d4f-4e8b-a1c2-d3e4f5a6b7c8';
const QDHCP = 'qdhcp-8e1b2a3c-4d5e-4f60-8a7b-9c0d1e2f3a4b';

let lab: LabView;

beforeAll(async () => {
  requireRoot();
  lab = await labUp('dvr-fip', { prefix: PREFIX });
}, 120_000);
afterAll(async () => {
  await downAllLabs(PREFIX);
}, 120_000);

/** Labels the SPECs resolve to, this lab's only. */
async function resolved(texts: string[], sshConfig?: string): Promise<string[]> {
  const session = await CaptureSession.resolve(texts.map(parseSpec), {
    sshConfig,
    identities: identityTargets,
  });
  return session.targets
    .filter((t) => t.netns === null || t.netns.startsWith(PREFIX))
    .map((t) => t.label)
    .sort();
}

describe('cloud identities on the dvr-fip lab', () => {
  it.each([
    [
      'port:7aa08012-d0e5-4c3b-9a1f-1b2c3d4e5f60',
      ['qbr7aa08012-d0', 'qvb7aa08012-d0', 'qvo7aa08012-d0', 'tap7aa08012-d0'].map((n) => `compute/${n}`),
    ],
    [
      `router:${ROUTER}`,
      [
        `${FIP}/fg-3c1d5e7f-a2`,
        `${FIP}/fpr-6f774e8e-2`,
        `qrouter-${ROUTER}/qr-56c70d72-3b`,
        `qrouter-${ROUTER}/rfp-6f774e8e-2`,
      ],
    ],
    ['dhcp:8e1b2a3c-4d5e-4f60-8a7b-9c0d1e2f3a4b', [`${QDHCP}/ns-9d8c7b6a-5e`]],
    ['ip:10.0.0.5', ['compute/tap7aa08012-d0', 'instance-0000002a/eth0']],
  ])('%s', async (text, names) => {
    expect(await resolved([text])).toEqual(names.map((n) => `${PREFIX}${n}`).sort());
  });

  it('on the compute host over ssh: HOST:port:ID names its interfaces there', async () => {
    const compute = lab.hosts.find((h) => h.name === 'compute')?.sshName as string;
    expect(await resolved([`${compute}:port:7aa08012-d0`], lab.sshConfigPath)).toEqual(
      ['qbr7aa08012-d0', 'qvb7aa08012-d0', 'qvo7aa08012-d0', 'tap7aa08012-d0'].map((n) => `${compute}:${n}`),
    );
  });

  it('an identity that names nothing: exit 2, one line listing the nearest names that exist', () => {
    const compute = lab.hosts.find((h) => h.name === 'compute')?.sshName as string;
    const r = runCli([
      'capture',
      '--ssh-config',
      lab.sshConfigPath,
      '-i',
      `${compute}:port:7aa08013-d0`,
      '--duration',
      '1',
    ]);
    expect(r.status).toBe(2);
    // the host's own names first (nearest, then shortest); other namespaces after
    expect(r.stderr).toMatch(
      new RegExp(
        `^hopscope: capture: -i "${compute}:port:7aa08013-d0": no interface of port 7aa08013-d0 on ${compute} ` +
          `\\(nearest: qbr7aa08012-d0, qvb7aa08012-d0, qvo7aa08012-d0, tap7aa08012-d0, [^)]+\\)\\n$`,
      ),
    );
    const local = runCli(['capture', '-i', 'router:00000000-0000', '--duration', '1']);
    expect(local.status).toBe(2);
    expect(local.stderr).toMatch(
      /^hopscope: capture: -i "router:00000000-0000": no namespace of router 00000000-0000 \(qrouter-00000000-0000…\) on this host \(nearest: [^)]*qrouter-6f774e8e-2f5b-4c1d-9a3e-0b1c2d3e4f50[^)]*\)\n$/,
    );
  });
});
