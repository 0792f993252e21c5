import { Controller, Get, Res, UseFilters, type StreamableFile } from '@nestjs/common';
import { ConsolePublic } from '../console-auth/console-auth.guard';
import { ConsoleAssetsService, type ResponseHeaders } from './console-assets.service';
import { LoginRedirectFilter } from './login-redirect.filter';

/** The sign-in page and what it loads: the only part of the console served without a session (but not while it is off). */
@Controller()
@ConsolePublic()
export class ConsoleLoginController {
  constructor(private readonly assets: ConsoleAssetsService) {}

  @Get('login')
  login(@Res({ passthrough: true }) res: ResponseHeaders): StreamableFile {
    return this.assets.servePublic(res, 'login.html');
  }

  @Get('assets/login.js')
  loginScript(@Res({ passthrough: true }) res: ResponseHeaders): StreamableFile {
    return this.assets.servePublic(res, 'assets/login.js');
  }

  @Get('assets/console.css')
  styles(@Res({ passthrough: true }) res: ResponseHeaders): StreamableFile {
    return this.assets.servePublic(res, 'assets/console.css');
  }
}

/** The console itself: one page at / with hash routes, and its bundle; the global ConsoleAuthGuard protects both. */
@Controller()
@UseFilters(LoginRedirectFilter)
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
