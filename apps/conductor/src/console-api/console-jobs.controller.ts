import { JobKind, JobStatus } from '@agent-conductor/db';
import { Controller, Get, Header, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ConsoleReadService } from './console-read.service';
import { jobsQuery, parseQuery } from './console-query.params';
import { ApiConsoleErrors, ApiPaging } from './console-api.docs';
import { JOB_DETAIL, JOB_ITEM, pageOf } from './console-api.schemas';

@ApiTags('jobs')
@ApiConsoleErrors()
@Controller('api/v1/jobs')
export class ConsoleJobsController {
  constructor(private readonly read: ConsoleReadService) {}

  @Get()
  @ApiOperation({ summary: 'Jobs, newest first' })
  @ApiPaging()
  @ApiQuery({ name: 'status', required: false, enum: Object.values(JobStatus) })
  @ApiQuery({ name: 'kind', required: false, enum: Object.values(JobKind) })
  @ApiQuery({ name: 'repository', required: false })
  @ApiQuery({ name: 'key', required: false, description: 'Ticket key, or the AWS account of an incident job' })
  @ApiOkResponse({ schema: pageOf(JOB_ITEM) })
  list(@Query() query: unknown) {
    const { limit, cursor, ...filter } = parseQuery(jobsQuery, query);
    return this.read.jobs(filter, { limit, cursor });
  }

  @Get(':id')
  @ApiOperation({ summary: 'One job: attempts, events (heartbeats counted), usage, result, error, ending report' })
  @ApiOkResponse({ schema: JOB_DETAIL })
  get(@Param('id') id: string) {
    return this.read.job(id);
  }

  @Get(':id/transcript')
  @Header('Content-Type', 'text/plain; charset=utf-8')
  @ApiProduces('text/plain')
  @ApiOkResponse({ schema: { type: 'string' } })
  @ApiOperation({ summary: "The agent's transcript (redacted) from the result store; 404 when there is none" })
  transcript(@Param('id') id: string) {
    return this.read.transcript(id);
  }
}
