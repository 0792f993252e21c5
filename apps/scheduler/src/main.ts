import { schedulerV1 } from '@agent-conductor/contracts';
console.log(schedulerV1.SCHEDULER_SERVICE_NAME);
