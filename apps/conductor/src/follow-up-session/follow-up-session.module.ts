import { Module } from '@nestjs/common';
import { ResultsModule } from '../results/results.module';
import { FollowUpSessionService } from './follow-up-session.service';

/** Context reuse: a follow-up's launch finds the earlier job's agent session in the result store (docs/context-reuse.md). */
@Module({
  imports: [ResultsModule],
  providers: [FollowUpSessionService],
  exports: [FollowUpSessionService],
})
export class FollowUpSessionModule {}
