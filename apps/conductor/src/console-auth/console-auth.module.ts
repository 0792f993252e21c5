import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ConsoleAuthGuard } from './console-auth.guard';
import { ConsoleAuthService } from './console-auth.service';
import { ConsoleSessionController } from './console-session.controller';

/**
 * Access to the operator console. Its guard is global: every HTTP route needs a console caller unless marked
 * @ConsolePublic (health, metrics, login). ConsoleAuthService is exported for consoleAuthHandler (Swagger UI at /api/docs).
 */
@Module({
  controllers: [ConsoleSessionController],
  providers: [ConsoleAuthService, { provide: APP_GUARD, useClass: ConsoleAuthGuard }],
  exports: [ConsoleAuthService],
})
export class ConsoleAuthModule {}
