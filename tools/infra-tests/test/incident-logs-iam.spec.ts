import { blocks, loadTerraformDir, stringList, type HclObject, type TerraformModule } from '../src/lib/terraform';
import { fromRoot } from '../src/lib/workspace';

let root: TerraformModule;

beforeAll(async () => {
  root = await loadTerraformDir(fromRoot('terraform'));
});

/** The conductor's statements that only incident_evidence = true adds, with their content. */
function evidenceStatements(): Array<{ forEach: unknown; content: HclObject }> {
  const conductor = root.data.get('aws_iam_policy_document.conductor_task') ?? {};
  return blocks(conductor, 'dynamic')
    .flatMap((block) => blocks(block, 'statement'))
    .flatMap((statement) => blocks(statement, 'content').map((content) => ({ forEach: statement['for_each'], content })));
}

describe("the conductor's Logs Insights grant for the evidence pack", () => {
  it('may StartQuery only on log groups of its own account, and read or stop queries, only with incident_evidence', () => {
    const logs = evidenceStatements().filter(({ content }) => stringList(content['actions']).some((action) => action.startsWith('logs:')));
    expect(logs.map(({ forEach }) => forEach)).toEqual(['${var.incident_evidence ? [1] : []}', '${var.incident_evidence ? [1] : []}']);
    expect(logs.map(({ content }) => content)).toEqual([
      { sid: 'StartIncidentLogsQueries', actions: ['logs:StartQuery'], resources: ['arn:aws:logs:*:${local.account_id}:log-group:*'] },
      // No resource-level permissions exist for these two: they take a query id only.
      { sid: 'ReadIncidentLogsQueries', actions: ['logs:GetQueryResults', 'logs:StopQuery'], resources: ['*'] },
    ]);
    const plain = blocks(root.data.get('aws_iam_policy_document.conductor_task') ?? {}, 'statement');
    expect(plain.filter((statement) => stringList(statement['actions']).some((action) => action.startsWith('logs:')))).toEqual([]);
  });
});
