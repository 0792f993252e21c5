import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ConsoleReadService } from './console-read.service';
import { parseQuery, workersQuery } from './console-query.params';
import { ApiPaging } from './console-api.docs';

@ApiTags('system')
@Controller('api/v1')
export class ConsoleSystemController {
  constructor(private readonly read: ConsoleReadService) {}

  @Get('overview')
  @ApiOperation({ summary: 'Active jobs against the cap, queue and DLQ depth, success rate and median duration over 24 h' })
  overview() {
    return this.read.overview();
  }

  @Get('queues')
  @ApiOperation({ summary: 'Intake and dead-letter queue depths (SQS GetQueueAttributes)' })
  queues() {
    return this.read.queueDepths();
  }

  @Get('workers')
  @ApiOperation({ summary: 'Worker attempts, newest first' })
  @ApiPaging()
  @ApiQuery({ name: 'active', required: false, enum: ['true', 'false'] })
  workers(@Query() query: unknown) {
    const { limit, cursor, active } = parseQuery(workersQuery, query);
    return this.read.workers({ active }, { limit, cursor });
  }

  @Get('admission')
  @ApiOperation({ summary: 'Active jobs per claim against its limit, and the waiting line with each reason' })
  admission() {
    return this.read.admission();
  }
}
