// Who talks to whom in each lab scenario — its traffic entries — and the chain of the
// scenario's capture points each of those packets crosses, in order: what `hopscope
// path` must give between those endpoints. The capture points are the scenario's own
// (src/lab/scenarios/*.ts, the ones the lab tests capture on); here only which of them
// a packet crosses, and in which order.
import { findScenario } from '../../../src/lab/scenarios/index.js';
import type { ScenarioSpec, TrafficSpec } from '../../../src/lab/topology.js';

export interface ScenarioPath {
  scenario: string;
  /** the traffic entry (src/lab/scenarios) whose packets these are */
  traffic: string;
  src: string;
  /** DST as `path` takes it: an address, with `:port` for a TCP or UDP service */
  dst: string;
  proto: 'icmp' | 'tcp' | 'udp';
  /** indices into the scenario's capturePoints, in the order the request crosses them */
  points: number[];
}

const range = (from: number, to: number): number[] =>
  from <= to
    ? Array.from({ length: to - from + 1 }, (_, i) => from + i)
    : Array.from({ length: from - to + 1 }, (_, i) => from - i);

/** Capture points crossed per traffic entry (DHCP is broadcast: no path of its own). */
const CROSSED: Record<string, Record<string, number[]>> = {
  'nova-flat': {
    dns: range(0, 2), // VM eth0, tap, br100 where dnsmasq answers
    'ping-external': range(0, 4),
    'http-external': range(0, 4),
    'ping-floating-ip': range(4, 0),
  },
  'dvr-fip': {
    'ping-outside': range(0, 9),
    'ping-floating-ip': range(9, 0),
    'ssh-floating-ip': range(9, 0),
  },
  'sdn-vxlan': {
    'ping-pod': range(0, 9),
    'ping-pod-large-df': range(0, 9),
    'http-pod': range(0, 9),
  },
  'dnat-local': {
    'ping-edge': range(0, 1),
    'connect-dnat-port': range(0, 1),
  },
};

function sourceOf(spec: ScenarioSpec, t: TrafficSpec): string {
  const a = spec.addresses.find((x) => x.netns === t.netns);
  if (a === undefined) throw new Error(`${spec.name}: no address in ${t.netns}`);
  return a.cidr.split('/')[0];
}

/** DST and protocol from the command: `ping … ADDR`, `nc -z … ADDR PORT`, `dig @ADDR …`. */
function destinationOf(t: TrafficSpec): { dst: string; proto: 'icmp' | 'tcp' | 'udp' } {
  const argv = t.argv;
  if (argv[0] === 'ping') return { dst: argv[argv.length - 1], proto: 'icmp' };
  if (argv[0] === 'nc') return { dst: `${argv[argv.length - 2]}:${argv[argv.length - 1]}`, proto: 'tcp' };
  if (argv[0] === 'dig') {
    const server = argv.find((a) => a.startsWith('@'));
    if (server !== undefined) return { dst: `${server.slice(1)}:53`, proto: 'udp' };
  }
  throw new Error(`no destination in ${argv.join(' ')}`);
}

export function scenarioPaths(name: string): ScenarioPath[] {
  const spec = findScenario(name);
  if (spec === undefined) throw new Error(`no scenario ${name}`);
  const crossed = CROSSED[name];
  return spec.traffic
    .filter((t) => crossed[t.name] !== undefined)
    .map((t) => ({
      scenario: name,
      traffic: t.name,
      src: sourceOf(spec, t),
      ...destinationOf(t),
      points: crossed[t.name],
    }));
}

export const SCENARIO_NAMES = Object.keys(CROSSED);
