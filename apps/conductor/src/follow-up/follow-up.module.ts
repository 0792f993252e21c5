import { Module } from '@nestjs/common';
import { FollowUpLaunchService } from './follow-up-launch.service';

/** Launching follow-up jobs: their TASK.md, AGENTS.md and handshake. Repositories come from DbModule. */
@Module({ providers: [FollowUpLaunchService], exports: [FollowUpLaunchService] })
export class FollowUpModule {}
