import { Module } from '@nestjs/common';
import { ConsoleAssetsService } from './console-assets.service';
import { ConsoleLoginController, ConsoleUiController } from './console-ui.controller';

@Module({
  controllers: [ConsoleLoginController, ConsoleUiController],
  providers: [ConsoleAssetsService],
})
export class ConsoleUiModule {}
