import { get_dmmf } from '@prisma/prisma-schema-wasm';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { emptyDatabase, query } from '../../test/support';
import { deployMigrations, findMigrationsDir } from './migrator';

/*
 * The migrations are hand-written (Prisma's schema engine is unavailable), so
 * this test is what keeps them equal to prisma/schema.prisma: it derives the
 * database Prisma would create from the schema's DMMF and compares it with the
 * catalog of a database built by the migrations.
 */

interface DmmfField {
  name: string;
  dbName?: string | null;
  kind: 'scalar' | 'object' | 'enum' | 'unsupported';
  isList: boolean;
  isRequired: boolean;
  isUpdatedAt: boolean;
  type: string;
  nativeType?: [string, string[]] | null;
  default?: { name: string; args: unknown[] } | string | number | boolean | null;
  relationFromFields?: string[];
  relationToFields?: string[];
  relationOnDelete?: string;
  relationOnUpdate?: string;
}
interface DmmfModel {
  name: string;
  dbName: string | null;
  fields: DmmfField[];
}
interface DmmfIndex {
  model: string;
  type: 'id' | 'unique' | 'normal' | 'fulltext';
  dbName?: string | null;
  fields: Array<{ name: string }>;
}
interface Dmmf {
  datamodel: {
    enums: Array<{ name: string; dbName: string | null; values: Array<{ name: string; dbName: string | null }> }>;
    models: DmmfModel[];
    indexes: DmmfIndex[];
  };
}

interface Column {
  type: string;
  nullable: boolean;
  default: string | null;
}
interface NamedColumns {
  name: string;
  columns: string[];
}
interface ForeignKey extends NamedColumns {
  referencedTable: string;
  referencedColumns: string[];
  onDelete: string;
  onUpdate: string;
}
interface Table {
  columns: Record<string, Column>;
  primaryKey: NamedColumns | null;
  uniqueIndexes: NamedColumns[];
  indexes: NamedColumns[];
  foreignKeys: ForeignKey[];
}
interface DatabaseShape {
  enums: Record<string, string[]>;
  tables: Record<string, Table>;
}

const byName = (a: NamedColumns, b: NamedColumns): number => a.name.localeCompare(b.name);

function scalarType(field: DmmfField): string {
  const native = field.nativeType?.[0];
  const args = field.nativeType?.[1] ?? [];
  switch (field.type) {
    case 'String':
      return native === 'Uuid' ? 'uuid' : native === undefined || native === 'Text' ? 'text' : `unmapped:${native}`;
    case 'Int':
      return 'integer';
    case 'BigInt':
      return 'bigint';
    case 'Boolean':
      return 'boolean';
    case 'Json':
      return 'jsonb';
    case 'DateTime':
      if (native === 'Timestamptz') {
        return `timestamp(${args[0] ?? '6'}) with time zone`;
      }
      return native === undefined ? 'timestamp(3) without time zone' : `unmapped:${native}`;
    default:
      return `unmapped:${field.type}`;
  }
}

/** What Prisma's migrate would create for schema.prisma. */
export function expectedShape(schema: string): DatabaseShape {
  const dmmf = JSON.parse(get_dmmf(JSON.stringify({ prismaSchema: schema }))) as Dmmf;
  const models = new Map(dmmf.datamodel.models.map((model) => [model.name, model]));
  const tableOf = (model: DmmfModel): string => model.dbName ?? model.name;
  const columnOf = (model: DmmfModel, fieldName: string): string => {
    const field = model.fields.find((candidate) => candidate.name === fieldName);
    if (!field) {
      throw new Error(`${model.name}.${fieldName} not found`);
    }
    return field.dbName ?? field.name;
  };
  const enumDbNames = new Map(dmmf.datamodel.enums.map((e) => [e.name, e.dbName ?? e.name]));

  const shape: DatabaseShape = { enums: {}, tables: {} };
  for (const enumType of dmmf.datamodel.enums) {
    shape.enums[enumType.dbName ?? enumType.name] = enumType.values.map((value) => value.dbName ?? value.name);
  }
  for (const model of dmmf.datamodel.models) {
    const table = tableOf(model);
    const columns: Record<string, Column> = {};
    for (const field of model.fields) {
      if (field.kind !== 'scalar' && field.kind !== 'enum') {
        continue;
      }
      const column = field.dbName ?? field.name;
      const base = field.kind === 'enum' ? (enumDbNames.get(field.type) ?? field.type) : scalarType(field);
      let defaultExpression: string | null = null;
      const fieldDefault = field.default;
      if (typeof fieldDefault === 'object' && fieldDefault !== null) {
        if (fieldDefault.name === 'now') {
          defaultExpression = 'CURRENT_TIMESTAMP';
        } else if (fieldDefault.name === 'autoincrement') {
          defaultExpression = `nextval('${table}_${column}_seq'::regclass)`;
        } else if (!['uuid', 'cuid', 'nanoid', 'ulid'].includes(fieldDefault.name)) {
          defaultExpression = `unmapped:${fieldDefault.name}`;
        }
      } else if (fieldDefault !== undefined && fieldDefault !== null) {
        defaultExpression = field.kind === 'enum' ? `'${String(fieldDefault)}'::"${base}"` : String(fieldDefault);
      }
      columns[column] = {
        // Postgres has no NOT NULL arrays in Prisma's mapping: lists are always nullable columns.
        type: field.isList ? `${base}[]` : base,
        nullable: field.isList || !field.isRequired,
        default: defaultExpression,
      };
    }
    const foreignKeys: ForeignKey[] = model.fields
      .filter((field) => field.kind === 'object' && (field.relationFromFields?.length ?? 0) > 0)
      .map((field) => {
        const target = models.get(field.type);
        if (!target) {
          throw new Error(`relation target ${field.type} not found`);
        }
        const from = (field.relationFromFields ?? []).map((name) => columnOf(model, name));
        const required = (field.relationFromFields ?? []).every(
          (name) => model.fields.find((candidate) => candidate.name === name)?.isRequired === true,
        );
        return {
          name: `${table}_${from.join('_')}_fkey`,
          columns: from,
          referencedTable: tableOf(target),
          referencedColumns: (field.relationToFields ?? []).map((name) => columnOf(target, name)),
          onDelete: field.relationOnDelete ?? (required ? 'Restrict' : 'SetNull'),
          onUpdate: field.relationOnUpdate ?? 'Cascade',
        };
      })
      .sort(byName);
    shape.tables[table] = { columns, primaryKey: null, uniqueIndexes: [], indexes: [], foreignKeys };
  }
  for (const index of dmmf.datamodel.indexes) {
    const model = models.get(index.model);
    const table = model ? shape.tables[tableOf(model)] : undefined;
    if (!model || !table) {
      throw new Error(`index on unknown model ${index.model}`);
    }
    const columns = index.fields.map((field) => columnOf(model, field.name));
    const tableName = tableOf(model);
    if (index.type === 'id') {
      table.primaryKey = { name: index.dbName ?? `${tableName}_pkey`, columns };
    } else if (index.type === 'unique') {
      table.uniqueIndexes.push({ name: index.dbName ?? `${tableName}_${columns.join('_')}_key`, columns });
    } else {
      table.indexes.push({ name: index.dbName ?? `${tableName}_${columns.join('_')}_idx`, columns });
    }
  }
  for (const table of Object.values(shape.tables)) {
    table.uniqueIndexes.sort(byName);
    table.indexes.sort(byName);
  }
  return shape;
}

const REFERENTIAL_ACTIONS: Record<string, string> = { a: 'NoAction', r: 'Restrict', c: 'Cascade', n: 'SetNull', d: 'SetDefault' };

/** What the database actually has, in the same terms. */
export async function actualShape(databaseUrl: string): Promise<DatabaseShape> {
  const shape: DatabaseShape = { enums: {}, tables: {} };
  const enumRows = await query<{ name: string; value: string }>(
    databaseUrl,
    `SELECT t.typname AS name, e.enumlabel AS value
       FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = current_schema() ORDER BY t.typname, e.enumsortorder`,
  );
  for (const row of enumRows) {
    (shape.enums[row.name] ??= []).push(row.value);
  }
  const columnRows = await query<{ table: string; column: string; type: string; notnull: boolean; default: string | null }>(
    databaseUrl,
    `SELECT c.relname AS table, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type,
            a.attnotnull AS notnull, pg_get_expr(d.adbin, d.adrelid) AS default
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
       LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
      WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relname <> '_prisma_migrations'
      ORDER BY c.relname, a.attnum`,
  );
  const tableOf = (name: string): Table =>
    (shape.tables[name] ??= { columns: {}, primaryKey: null, uniqueIndexes: [], indexes: [], foreignKeys: [] });
  for (const row of columnRows) {
    tableOf(row.table).columns[row.column] = { type: row.type.replace(/"/g, ''), nullable: !row.notnull, default: row.default };
  }
  const indexRows = await query<{ table: string; name: string; unique: boolean; primary: boolean; columns: string[] }>(
    databaseUrl,
    `SELECT t.relname AS table, i.relname AS name, x.indisunique AS unique, x.indisprimary AS primary,
            array(SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY k(attnum, ord)
                    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS columns
       FROM pg_index x
       JOIN pg_class i ON i.oid = x.indexrelid
       JOIN pg_class t ON t.oid = x.indrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = current_schema() AND t.relname <> '_prisma_migrations'`,
  );
  for (const row of indexRows) {
    const table = tableOf(row.table);
    const entry = { name: row.name, columns: row.columns };
    if (row.primary) {
      table.primaryKey = entry;
    } else if (row.unique) {
      table.uniqueIndexes.push(entry);
    } else {
      table.indexes.push(entry);
    }
  }
  const foreignKeyRows = await query<{
    table: string;
    name: string;
    columns: string[];
    referenced_table: string;
    referenced_columns: string[];
    on_delete: string;
    on_update: string;
  }>(
    databaseUrl,
    `SELECT t.relname AS table, c.conname AS name,
            array(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(attnum, ord)
                    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS columns,
            r.relname AS referenced_table,
            array(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(attnum, ord)
                    JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS referenced_columns,
            c.confdeltype AS on_delete, c.confupdtype AS on_update
       FROM pg_constraint c
       JOIN pg_class t ON t.oid = c.conrelid
       JOIN pg_class r ON r.oid = c.confrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = current_schema() AND c.contype = 'f'`,
  );
  for (const row of foreignKeyRows) {
    tableOf(row.table).foreignKeys.push({
      name: row.name,
      columns: row.columns,
      referencedTable: row.referenced_table,
      referencedColumns: row.referenced_columns,
      onDelete: REFERENTIAL_ACTIONS[row.on_delete] ?? row.on_delete,
      onUpdate: REFERENTIAL_ACTIONS[row.on_update] ?? row.on_update,
    });
  }
  for (const table of Object.values(shape.tables)) {
    table.uniqueIndexes.sort(byName);
    table.indexes.sort(byName);
    table.foreignKeys.sort(byName);
  }
  return shape;
}

describe('migrations versus prisma/schema.prisma', () => {
  const schema = readFileSync(resolve(findMigrationsDir(), '..', 'schema.prisma'), 'utf8');
  let databaseUrl: string;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const database = await emptyDatabase('ac_drift');
    databaseUrl = database.databaseUrl;
    drop = database.drop;
    await deployMigrations({ databaseUrl });
  });
  afterAll(() => drop());

  it('reads the schema the way Prisma does', () => {
    const expected = expectedShape(schema);
    expect(Object.keys(expected.tables).sort()).toEqual(['alarms', 'deliveries', 'follow_up_requests', 'github_webhook_deliveries', 'incidents', 'jira_reports', 'job_actions', 'jobs', 'tickets', 'worker_events', 'workers']);
    expect(expected.tables['jobs']?.columns['status']).toEqual({ type: 'JobStatus', nullable: false, default: `'pending'::"JobStatus"` });
    expect(expected.tables['tickets']?.columns['labels']).toEqual({ type: 'text[]', nullable: true, default: null });
    expect(JSON.stringify(expected)).not.toContain('unmapped:');
  });

  it('produces exactly the database the schema describes', async () => {
    expect(await actualShape(databaseUrl)).toEqual(expectedShape(schema));
  });

  it('notices when the two disagree', async () => {
    const edited = schema.replace('  error       String?\n', '  error       String?\n  notes       String?\n');
    expect(edited).not.toBe(schema);
    expect(await actualShape(databaseUrl)).not.toEqual(expectedShape(edited));
  });
});
