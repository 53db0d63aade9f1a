// dnsmasq as the lab tests run it: in a namespace, in the foreground, reading no
// configuration file, resolv.conf or hosts file, its pid and lease files in the test's
// own directory — dnsmasq's default lease file is the machine's, and a pool filled by
// earlier runs offers nothing.
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';

/** dnsmasq in `netns` with `args`, its files in `dir` (named after the namespace). Kill it to stop it. */
export function dnsmasqIn(netns: string, dir: string, args: readonly string[]): ResultPromise {
  return execa(
    'ip',
    [
      'netns',
      'exec',
      netns,
      'dnsmasq',
      '--keep-in-foreground',
      '--conf-file=/dev/null',
      '--no-resolv',
      '--no-hosts',
      `--dhcp-leasefile=${join(dir, `${netns}.leases`)}`,
      `--pid-file=${join(dir, `${netns}.pid`)}`,
      ...args,
    ],
    { reject: false, stdin: 'ignore' },
  );
}
