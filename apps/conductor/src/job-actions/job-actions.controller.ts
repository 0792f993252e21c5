import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBody, ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { JOB_ACTION_ANSWER } from '../console-api/console-api.schemas';
import { ConsoleCaller } from '../console-auth/console-caller';
import { JobActionsService, MAX_REASON_CHARS } from './job-actions.service';

const reasonBody = {
  required: false,
  schema: { type: 'object', additionalProperties: false, properties: { reason: { type: 'string', maxLength: MAX_REASON_CHARS } } },
} as const;

/** POST /api/v1/jobs/:id/{cancel,rerun,approve,reject}; ConsoleAuthModule's global guard names the caller. */
@ApiTags('jobs')
@Controller('api/v1/jobs')
export class JobActionsController {
  constructor(private readonly actions: JobActionsService) {}

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel: a waiting job ends now; a launching or running one is stopped (heartbeat, then a kill after CANCEL_GRACE_SECONDS)' })
  @ApiBody(reasonBody)
  @ApiOkResponse({ description: '{ job } (a second cancel answers the same)', schema: JOB_ACTION_ANSWER })
  @ApiNotFoundResponse({ description: 'No such job' })
  @ApiConflictResponse({ description: '{ message }: the job already succeeded or failed' })
  cancel(@Param('id') id: string, @Body() body: unknown, @ConsoleCaller() caller: ConsoleCaller) {
    return this.actions.forConsole('cancel', id, body, caller.name);
  }

  @Post(':id/rerun')
  @HttpCode(200)
  @ApiOperation({ summary: 'Re-run an ended job as a new job (rerunOf) that goes through admission' })
  @ApiBody(reasonBody)
  @ApiOkResponse({ description: '{ job, rerun }', schema: JOB_ACTION_ANSWER })
  @ApiNotFoundResponse({ description: 'No such job' })
  @ApiConflictResponse({ description: '{ message }: the job has not ended' })
  rerun(@Param('id') id: string, @Body() body: unknown, @ConsoleCaller() caller: ConsoleCaller) {
    return this.actions.forConsole('rerun', id, body, caller.name);
  }

  @Post(':id/approve')
  @HttpCode(200)
  @ApiOperation({ summary: 'Approve a job awaiting approval: admission may start it' })
  @ApiBody(reasonBody)
  @ApiOkResponse({ description: '{ job }', schema: JOB_ACTION_ANSWER })
  @ApiNotFoundResponse({ description: 'No such job' })
  @ApiConflictResponse({ description: '{ message }: the job needs no approval, or was rejected' })
  approve(@Param('id') id: string, @Body() body: unknown, @ConsoleCaller() caller: ConsoleCaller) {
    return this.actions.forConsole('approve', id, body, caller.name);
  }

  @Post(':id/reject')
  @HttpCode(200)
  @ApiOperation({ summary: 'Reject a job awaiting approval: it ends cancelled' })
  @ApiBody(reasonBody)
  @ApiOkResponse({ description: '{ job }', schema: JOB_ACTION_ANSWER })
  @ApiNotFoundResponse({ description: 'No such job' })
  @ApiConflictResponse({ description: '{ message }: the job needs no approval, or was approved' })
  reject(@Param('id') id: string, @Body() body: unknown, @ConsoleCaller() caller: ConsoleCaller) {
    return this.actions.forConsole('reject', id, body, caller.name);
  }
}
