import { Controller, Get, Res, type StreamableFile } from '@nestjs/common';
import { ConsoleAssetsService, type ResponseHeaders } from './console-assets.service';

/** The sign-in page and what it loads: the only part of the console served without a session. */
@Controller()
export class ConsoleLoginController {
  constructor(private readonly assets: ConsoleAssetsService) {}

  @Get('login')
  login(@Res({ passthrough: true }) res: ResponseHeaders): StreamableFile {
    return this.assets.serve(res, 'login.html');
  }

  @Get('assets/login.js')
  loginScript(@Res({ passthrough: true }) res: ResponseHeaders): StreamableFile {
    return this.assets.serve(res, 'assets/login.js');
  }

  @Get('assets/console.css')
  styles(@Res({ passthrough: true }) res: ResponseHeaders): StreamableFile {
    return this.assets.serve(res, 'assets/console.css');
  }
}

/** The console itself: one page at / with hash routes, and its bundle. */
@Controller()
export class ConsoleUiController {
  constructor(private readonly assets: ConsoleAssetsService) {}

  @Get()
  index(@Res({ passthrough: true }) res: ResponseHeaders): StreamableFile {
    return this.assets.serve(res, 'index.html');
  }

  @Get('assets/app.js')
  appScript(@Res({ passthrough: true }) res: ResponseHeaders): StreamableFile {
    return this.assets.serve(res, 'assets/app.js');
  }
}
