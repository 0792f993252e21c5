import { READ_ONLY_INVESTIGATION_ACTIONS, sessionPolicyActionProblems } from '@agent-conductor/scheduling-domain';
import { blocks, loadTerraformDir, referencesIn, stringList, unresolvedReferences, type HclObject, type TerraformModule } from '../src/lib/terraform';
import { fromRoot } from '../src/lib/workspace';

let root: TerraformModule;
let roleModule: TerraformModule;

beforeAll(async () => {
  root = await loadTerraformDir(fromRoot('terraform'));
  roleModule = await loadTerraformDir(fromRoot('terraform/modules/investigation-role'));
});

function statements(module: TerraformModule, dataKey: string): HclObject[] {
  const doc = module.data.get(dataKey);
  if (!doc) throw new Error(`data ${dataKey} is missing`);
  return blocks(doc, 'statement');
}

describe('terraform/modules/investigation-role (one per monitored account)', () => {
  it('resolves every reference and uses every variable', () => {
    expect(unresolvedReferences(roleModule)).toEqual([]);
    const used = new Set(roleModule.expressions.flatMap(({ expression }) => referencesIn(expression)).filter((r) => r.kind === 'var').map((r) => r.name));
    expect([...roleModule.variables.keys()].filter((name) => !used.has(name))).toEqual([]);
  });

  it('trusts only the conductor task role, and only with the external id', () => {
    const [trust, ...others] = statements(roleModule, 'aws_iam_policy_document.trust');
    expect(others).toEqual([]);
    expect(stringList(trust?.['actions'])).toEqual(['sts:AssumeRole']);
    expect(blocks(trust ?? {}, 'principals')).toEqual([{ type: 'AWS', identifiers: ['${var.conductor_task_role_arn}'] }]);
    expect(blocks(trust ?? {}, 'condition')).toEqual([{ test: 'StringEquals', variable: 'sts:ExternalId', values: ['${var.external_id}'] }]);
    expect(roleModule.resources.get('aws_iam_role.investigation')).toMatchObject({ assume_role_policy: '${data.aws_iam_policy_document.trust.json}', max_session_duration: 3600 });
  });

  it('allows by default exactly the read-only actions the conductor puts in an agent session policy, none of them a write', () => {
    const [readOnly, ...others] = statements(roleModule, 'aws_iam_policy_document.read_only');
    expect(others).toEqual([]);
    expect(stringList(readOnly?.['actions'])).toEqual(['${var.read_only_actions}']);
    const defaults = stringList(roleModule.variables.get('read_only_actions')?.['default']);
    expect(defaults).toEqual([...READ_ONLY_INVESTIGATION_ACTIONS]);
    expect(sessionPolicyActionProblems(defaults)).toEqual([]);
    expect(roleModule.resources.get('aws_iam_role_policy.read_only')).toMatchObject({ role: '${aws_iam_role.investigation.id}', policy: '${data.aws_iam_policy_document.read_only.json}' });
  });
});

describe('the conductor may assume exactly the configured investigation roles', () => {
  it('grants sts:AssumeRole on var.investigation_role_arns only, and only when some are configured', () => {
    const conductor = root.data.get('aws_iam_policy_document.conductor_task') ?? {};
    const plain = blocks(conductor, 'statement').filter((statement) => stringList(statement['actions']).some((action) => action.startsWith('sts:')));
    expect(plain).toEqual([]);
    const dynamic = blocks(conductor, 'dynamic').flatMap((block) => blocks(block, 'statement'));
    const assume = dynamic.filter((block) => blocks(block, 'content').some((content) => stringList(content['actions']).includes('sts:AssumeRole')));
    expect(assume).toHaveLength(1);
    expect(assume[0]?.['for_each']).toBe('${length(var.investigation_role_arns) > 0 ? [1] : []}');
    expect(blocks(assume[0] ?? {}, 'content')).toEqual([{ sid: 'AssumeInvestigationRoles', actions: ['sts:AssumeRole'], resources: '${var.investigation_role_arns}' }]);
    expect(root.variables.get('investigation_role_arns')?.['default']).toEqual([]);
    // Whole ARNs only: a wildcard would let the conductor assume any role that trusts it.
    const validation = String(blocks(root.variables.get('investigation_role_arns') ?? {}, 'validation')[0]?.['condition']);
    expect(validation).toMatch(/:role\/\[[^\]*]+\]\+\$/);
    expect(root.outputs.get('conductor_task_role_arn')?.['value']).toBe('${aws_iam_role.conductor_task.arn}');
  });
});
