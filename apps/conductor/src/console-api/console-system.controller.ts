import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ConsoleReadService } from './console-read.service';
import { parseQuery, workersQuery } from './console-query.params';
import { ApiConsoleErrors, ApiPaging } from './console-api.docs';
import { ADMISSION, OVERVIEW, pageOf, QUEUES, WORKER_ITEM } from './console-api.schemas';

@ApiTags('system')
@ApiConsoleErrors()
@Controller('api/v1')
export class ConsoleSystemController {
  constructor(private readonly read: ConsoleReadService) {}

  @Get('overview')
  @ApiOperation({ summary: 'Active jobs against the cap, queue and DLQ depth, success rate and median duration over 24 h' })
  @ApiOkResponse({ schema: OVERVIEW })
  overview() {
    return this.read.overview();
  }

  @Get('queues')
  @ApiOperation({ summary: 'Intake and dead-letter queue depths (SQS GetQueueAttributes)' })
  @ApiOkResponse({ schema: QUEUES })
  queues() {
    return this.read.queueDepths();
  }

  @Get('workers')
  @ApiOperation({ summary: 'Worker attempts, newest first' })
  @ApiPaging()
  @ApiQuery({ name: 'active', required: false, enum: ['true', 'false'] })
  @ApiOkResponse({ schema: pageOf(WORKER_ITEM) })
  workers(@Query() query: unknown) {
    const { limit, cursor, active } = parseQuery(workersQuery, query);
    return this.read.workers({ active }, { limit, cursor });
  }

  @Get('admission')
  @ApiOperation({ summary: 'Active jobs per claim against its limit, and the waiting line with each reason' })
  @ApiOkResponse({ schema: ADMISSION })
  admission() {
    return this.read.admission();
  }
}
