// The registry of lab scenarios, in the order `lab list` shows them.
import type { ScenarioSpec } from '../topology.js';
import { dnatLocal } from './dnat-local.js';
import { dvrFip } from './dvr-fip.js';
import { novaFlat } from './nova-flat.js';
import { sdnVxlan } from './sdn-vxlan.js';

export const SCENARIOS: readonly ScenarioSpec[] = [novaFlat, dvrFip, sdnVxlan, dnatLocal];

export function findScenario(name: string): ScenarioSpec | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
