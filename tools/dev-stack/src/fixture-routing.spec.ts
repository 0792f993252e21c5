import { parseRoutingTable } from '@agent-conductor/scheduling';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CloudWatchFixtureServer } from './cloudwatch-fixture';
import { FIXTURE_LOGS_QUERY, fixtureRoutingTable, SAMPLE_ALARM_ACCOUNT } from './fixture-routing';
import { WORKSPACE } from './workspace';

describe("fixture mode's routing file", () => {
  it("is a routing file the scheduler loads, routing the sample alarm's account with a query over the recorded log groups", async () => {
    const fixture = await CloudWatchFixtureServer.fromDirectory();
    const sample = JSON.parse(await readFile(join(WORKSPACE, 'tools/e2e/fixtures/cloudwatch-alarm.eventbridge.json'), 'utf8')) as { account: string };
    expect(sample.account).toBe(SAMPLE_ALARM_ACCOUNT);

    const table = parseRoutingTable(JSON.parse(JSON.stringify(fixtureRoutingTable({ repository: '/srv/sample-app.git', branch: 'main', logGroups: fixture.recordedLogGroups }))), 'routing.json', '/');

    expect(table.default).toEqual({ repository: '/srv/sample-app.git', branch: 'main', sparsePaths: [] });
    expect(table.incidents).toEqual([
      { account: SAMPLE_ALARM_ACCOUNT, repository: '/srv/sample-app.git', branch: 'main', sparsePaths: [], logs: { logGroups: ['/ecs/sample-api'], query: FIXTURE_LOGS_QUERY, limit: 200 } },
    ]);
  });
});
