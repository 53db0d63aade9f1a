// The builder's output: an ordered list of concrete steps. Steps are data so the
// plan can be checked without running it (every command names a lab namespace,
// nothing targets the root namespace) and executed by one small executor.

/** How to know a started daemon is ready. */
export type ReadinessProbe =
  | {
      readonly kind: 'listening';
      readonly netns: string;
      readonly protocol: 'tcp' | 'udp';
      readonly port: number;
    }
  | { readonly kind: 'links'; readonly netns: string; readonly names: readonly string[] }
  /** interfaces operationally up (UP, or UNKNOWN for taps, VXLAN and lo) */
  | { readonly kind: 'operational'; readonly netns: string; readonly names: readonly string[] }
  /** conntrack in the namespace holds a flow of this protocol from src to dst */
  | {
      readonly kind: 'conntrack';
      readonly netns: string;
      readonly protocol: 'icmp' | 'tcp' | 'udp';
      readonly src: string;
      readonly dst: string;
    };

export type PlanStep =
  /** create a namespace; the executor records it before creating it */
  | { readonly kind: 'netns'; readonly netns: string }
  /** run a command to completion; a non-zero exit fails the build */
  | { readonly kind: 'command'; readonly what: string; readonly argv: readonly string[] }
  /** write a file (configs, rulesets) */
  | {
      readonly kind: 'file';
      readonly what: string;
      readonly path: string;
      readonly content: string;
      readonly mode: number;
    }
  /** make a directory a daemon needs, if missing (sshd's privilege-separation dir) */
  | { readonly kind: 'directory'; readonly what: string; readonly path: string; readonly mode: number }
  /** wait until every probe passes */
  | { readonly kind: 'wait'; readonly what: string; readonly ready: readonly ReadinessProbe[] }
  /** start a long-running process, detached, recorded by pid, output to `log` */
  | {
      readonly kind: 'daemon';
      readonly what: string;
      /** file-name friendly, unique in the lab ("sshd-compute", "dnsmasq-br100") */
      readonly name: string;
      readonly netns: string;
      readonly argv: readonly string[];
      readonly log: string;
      readonly ready: readonly ReadinessProbe[];
    };

export interface LabPlan {
  /** every namespace the plan creates, real names */
  readonly namespaces: readonly string[];
  readonly steps: readonly PlanStep[];
}
