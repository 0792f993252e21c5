import { Module } from '@nestjs/common';
import { ConsoleAuthModule } from '../console-auth/console-auth.module';
import { ConsoleAssetsService } from './console-assets.service';
import { ConsoleLoginController, ConsoleUiController } from './console-ui.controller';

@Module({
  imports: [ConsoleAuthModule],
  controllers: [ConsoleLoginController, ConsoleUiController],
  providers: [ConsoleAssetsService],
})
export class ConsoleUiModule {}
