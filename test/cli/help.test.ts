// What a user sees first: help that teaches, and one-line errors with exit 2.
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/run-cli.js';

describe('hopscope --help', () => {
  it('lists every command of the design with examples from the field', () => {
    const r = runCli(['--help']);
    expect(r.status).toBe(0);
    for (const command of ['capture', 'replay', 'ifaces', 'path', 'lab'])
      expect(r.stdout).toContain(`hopscope ${command}`);
    expect(r.stdout).toMatch(/tap\*/);
    expect(r.stdout).toMatch(/qrouter-\*/);
    expect(r.stdout).toMatch(/vxlan_sys_4789/);
    expect(r.stdout).toMatch(/Exit status/);
  });

  it.each([
    ['capture', /\[HOST:\]\[NETNS\/\]IFACE/],
    ['replay', /pcapng[\s\S]*compute:tap7aa08012-d0=tap\.pcap external:eth0=ext\.pcap/],
    ['ifaces', /role/],
    ['path', /SRC DST\[:PORT\][\s\S]*veth[\s\S]*VXLAN[\s\S]*--host H/],
    ['lab', /nova-flat[\s\S]*dvr-fip[\s\S]*sdn-vxlan[\s\S]*dnat-local/],
  ])('hopscope %s --help teaches the command', (command, pattern) => {
    const r = runCli([command, '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(pattern);
    expect(r.stdout).toMatch(/Examples?:/);
  });

  it('an unknown command is a one-line usage error with exit 2', () => {
    const r = runCli(['catpure']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain("unknown command 'catpure'");
  });

  it('an unknown option names the option, exit 2', () => {
    const r = runCli(['lab', 'list', '--frobnicate']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--frobnicate');
  });
});
