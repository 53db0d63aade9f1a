// The JSON lines contract as the repository ships it (docs/hopscope.schema.json):
// every record a test reads from hopscope's output is checked against it, so a record
// of an unknown type, a field of the wrong type or a field the contract does not
// describe fails the test that met it.
import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { PROJECT_ROOT } from './run-cli.js';

interface Schema {
  $defs: Record<string, { properties?: { type?: { const?: string } } }>;
}

const schema = JSON.parse(readFileSync(`${PROJECT_ROOT}docs/hopscope.schema.json`, 'utf8')) as Schema;
const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
const validateRecord = ajv.compile(schema);

/** The record definitions of each `type`, for a message that names what is wrong. */
const byType = new Map<string, ValidateFunction[]>();
for (const [name, def] of Object.entries(schema.$defs)) {
  const type = def.properties?.type?.const;
  if (type === undefined) continue;
  byType.set(type, [
    ...(byType.get(type) ?? []),
    ajv.compile({ $ref: `urn:hopscope:json-lines#/$defs/${name}` }),
  ]);
}

/** Why `record` breaks the contract, in one line; null when it keeps it. */
export function contractError(record: unknown): string | null {
  if (validateRecord(record)) return null;
  const type = (record as { type?: unknown }).type;
  const defs = typeof type === 'string' ? byType.get(type) : undefined;
  if (defs === undefined) return `unknown record type ${JSON.stringify(type)}`;
  const reasons = defs.map((validate) => {
    validate(record);
    return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`.trim());
  });
  reasons.sort((a, b) => a.length - b.length);
  return reasons[0].length > 0
    ? reasons[0].join('; ')
    : `matches more than one form of ${JSON.stringify(type)}`;
}

/** Throws, naming the record and what is wrong, unless every record keeps the contract. */
export function expectContract(records: readonly unknown[], where: string): void {
  for (const record of records) {
    const error = contractError(record);
    if (error !== null)
      throw new Error(
        `${where}: a record breaks docs/hopscope.schema.json: ${error}\n  ${JSON.stringify(record)}`,
      );
  }
}
