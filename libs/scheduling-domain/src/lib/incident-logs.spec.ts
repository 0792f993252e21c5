import { asIncidentLogsQuery, incidentLogsProblems, type IncidentLogsQuery } from './incident-logs';
import { incidentLogsFor, routingTableProblems, type RoutingTable } from './routing';

const LOGS: IncidentLogsQuery = { logGroups: ['/ecs/orders', '/aws/lambda/orders_api-2#blue'], query: 'fields @timestamp, @message', limit: 200 };

describe('incidentLogsProblems', () => {
  it('accepts 1 to 20 log groups, a query and a limit from 1 to 1000', () => {
    expect(incidentLogsProblems(LOGS)).toEqual([]);
    expect(incidentLogsProblems({ ...LOGS, logGroups: Array.from({ length: 20 }, (_, index) => `/g/${index}`), limit: 1000 })).toEqual([]);
    expect(incidentLogsProblems({ ...LOGS, limit: 1 })).toEqual([]);
  });

  it('names each problem by its key', () => {
    expect(incidentLogsProblems({ logGroups: [], query: ' ', limit: 0 })).toEqual([
      '.logGroups: must list 1 to 20 log groups',
      '.query: must not be empty',
      '.limit: must be a whole number from 1 to 1000',
    ]);
    expect(incidentLogsProblems({ ...LOGS, logGroups: Array.from({ length: 21 }, (_, index) => `/g/${index}`) })).toEqual(['.logGroups: must list 1 to 20 log groups']);
    expect(incidentLogsProblems({ ...LOGS, logGroups: ['/ok', 'no spaces', ''] })).toEqual([
      '.logGroups[1]: must be a log group name (1–512 of letters, digits and . - _ / #)',
      '.logGroups[2]: must be a log group name (1–512 of letters, digits and . - _ / #)',
    ]);
    expect(incidentLogsProblems({ ...LOGS, query: 'x'.repeat(10_001) })).toEqual(['.query: must be at most 10000 characters']);
    expect(incidentLogsProblems({ ...LOGS, limit: 1.5 })).toEqual(['.limit: must be a whole number from 1 to 1000']);
  });
});

describe('asIncidentLogsQuery', () => {
  it('reads back a stored query and refuses anything the rules would refuse', () => {
    expect(asIncidentLogsQuery(JSON.parse(JSON.stringify(LOGS)))).toEqual(LOGS);
    expect(asIncidentLogsQuery(null)).toBeNull();
    expect(asIncidentLogsQuery('fields @message')).toBeNull();
    expect(asIncidentLogsQuery({ ...LOGS, logGroups: '/ecs/orders' })).toBeNull();
    expect(asIncidentLogsQuery({ ...LOGS, logGroups: [1] })).toBeNull();
    expect(asIncidentLogsQuery({ ...LOGS, limit: '200' })).toBeNull();
    expect(asIncidentLogsQuery({ ...LOGS, limit: 5000 })).toBeNull();
    expect(asIncidentLogsQuery({ logGroups: LOGS.logGroups, limit: 10 })).toBeNull();
  });
});

describe('incident routes with logs', () => {
  const table: RoutingTable = {
    default: { repository: 'r', branch: 'main', sparsePaths: [] },
    tickets: [],
    incidents: [
      { account: '123456789012', repository: 'r', branch: 'main', sparsePaths: [], logs: LOGS },
      { account: '210987654321', repository: 'r', branch: 'main', sparsePaths: [] },
    ],
  };

  it("gives the rule's query for its account, a copy, and null for a rule without one or an unrouted account", () => {
    const logs = incidentLogsFor('123456789012', table);
    expect(logs).toEqual(LOGS);
    logs?.logGroups.push('/changed');
    expect(table.incidents[0]?.logs?.logGroups).toEqual(LOGS.logGroups);
    expect(incidentLogsFor('210987654321', table)).toBeNull();
    expect(incidentLogsFor('999999999999', table)).toBeNull();
  });

  it("reports a rule's logs problems with the rule's path", () => {
    expect(routingTableProblems(table)).toEqual([]);
    const bad: RoutingTable = { ...table, incidents: [{ account: '123456789012', repository: 'r', branch: 'main', sparsePaths: [], logs: { ...LOGS, query: '' } }] };
    expect(routingTableProblems(bad)).toEqual(['incidents[0].logs.query: must not be empty']);
  });
});
