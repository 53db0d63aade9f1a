// A lab as built: the scenario resolved for one fault and one prefix, with real
// namespace names. This is what `lab status` shows and what other code (the demo,
// capture tests) uses to know where to capture and what traffic to run.
import type { InterfaceRole } from './topology.js';

export interface LabHost {
  /** the scenario's name for the host ("compute") */
  name: string;
  /** the `Host` entry in the lab's ssh_config (the host's namespace name) */
  sshName: string;
  netns: string;
  description: string;
}

export interface LabNamespace {
  /** real (prefixed) name, as `ip netns list` shows it */
  name: string;
  /** host it belongs to (scenario name of the host) */
  host: string;
  description: string;
}

export interface LabInterface {
  netns: string;
  name: string;
  role: InterfaceRole;
  /** addresses the scenario assigns, CIDR form */
  addresses: string[];
}

/** A place to capture: `[host:]netns/iface` for `hopscope capture -i`. */
export interface CapturePoint {
  /** scenario name of the host owning the namespace */
  host: string;
  /** ssh destination for remote capture through the lab's ssh_config */
  sshHost: string;
  netns: string;
  iface: string;
  role: InterfaceRole;
}

/** A traffic command: run `argv` inside `netns` (`ip netns exec <netns> …argv`). */
export interface LabTraffic {
  name: string;
  netns: string;
  argv: string[];
  description: string;
  /** false when the active fault is expected to make this command fail */
  expectSuccess: boolean;
}

export interface LabView {
  scenario: string;
  fault: string | null;
  prefix: string;
  stateDir: string;
  sshConfigPath: string;
  hosts: LabHost[];
  namespaces: LabNamespace[];
  interfaces: LabInterface[];
  capturePoints: CapturePoint[];
  traffic: LabTraffic[];
}
