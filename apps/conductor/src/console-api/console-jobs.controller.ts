import { Controller, Get, Header, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ConsoleReadService } from './console-read.service';
import { jobsQuery, parseQuery } from './console-query.params';
import { ApiPaging } from './console-api.docs';

@ApiTags('jobs')
@Controller('api/v1/jobs')
export class ConsoleJobsController {
  constructor(private readonly read: ConsoleReadService) {}

  @Get()
  @ApiOperation({ summary: 'Jobs, newest first' })
  @ApiPaging()
  @ApiQuery({ name: 'status', required: false, enum: ['pending', 'launching', 'running', 'succeeded', 'failed', 'cancelled'] })
  @ApiQuery({ name: 'kind', required: false, enum: ['ticket', 'incident'] })
  @ApiQuery({ name: 'repository', required: false })
  @ApiQuery({ name: 'key', required: false, description: 'Ticket key, or the AWS account of an incident job' })
  @ApiOkResponse({ description: '{ items: Job[], nextCursor }' })
  list(@Query() query: unknown) {
    const { limit, cursor, ...filter } = parseQuery(jobsQuery, query);
    return this.read.jobs(filter, { limit, cursor });
  }

  @Get(':id')
  @ApiOperation({ summary: 'One job: attempts, events (heartbeats counted), usage, result, error, ending report' })
  @ApiOkResponse({ description: 'The job item with error, result, taskMarkdown, workers, events, report, transcriptAvailable' })
  get(@Param('id') id: string) {
    return this.read.job(id);
  }

  @Get(':id/transcript')
  @Header('Content-Type', 'text/plain; charset=utf-8')
  @ApiProduces('text/plain')
  @ApiOperation({ summary: "The agent's transcript (redacted) from the result store; 404 when there is none" })
  transcript(@Param('id') id: string) {
    return this.read.transcript(id);
  }
}
