import { applyDecorators, type INestApplication } from '@nestjs/common';
import { CONSOLE_PAGE_DEFAULT, CONSOLE_PAGE_MAX } from '@agent-conductor/db';
import { ApiBadRequestResponse, ApiForbiddenResponse, ApiNotFoundResponse, ApiQuery, ApiUnauthorizedResponse, DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { consoleAuthHandler } from '../console-auth/console-auth.middleware';
import { ConsoleAuthService } from '../console-auth/console-auth.service';
import { CONSOLE_SESSION_COOKIE } from '../console-auth/console-session';

export const CONSOLE_API_DOCS_PATH = 'api/docs';

/** The answers every console route may give besides its own (docs/console.md, "API"). */
export const ApiConsoleErrors = (): ClassDecorator & MethodDecorator =>
  applyDecorators(
    ApiBadRequestResponse({ description: 'A bad query parameter or cursor; `message` names each problem' }),
    ApiUnauthorizedResponse({ description: 'No or bad credentials' }),
    ApiForbiddenResponse({ description: 'A cookie-authenticated POST or DELETE without `X-Requested-With: console`' }),
    ApiNotFoundResponse({ description: 'Unknown id, or the console is off' }),
  );

/** `limit` and `cursor`, as every list endpoint takes them. */
export const ApiPaging = (): MethodDecorator =>
  applyDecorators(
    ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: CONSOLE_PAGE_MAX, default: CONSOLE_PAGE_DEFAULT } }),
    ApiQuery({ name: 'cursor', required: false, description: 'nextCursor of the previous page (opaque)' }),
  );

/** The OpenAPI document of every controller in the app, as served at /api/docs/openapi.json. */
export function consoleApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Agent Conductor console API')
    .setDescription('Read API and actions of the operator console (docs/console.md).')
    .setVersion('v1')
    .addBearerAuth()
    .addCookieAuth(CONSOLE_SESSION_COOKIE)
    .addSecurityRequirements('bearer')
    .build();
  return SwaggerModule.createDocument(app, config);
}

/**
 * Serves Swagger UI and the document at /api/docs behind console auth. Swagger registers its routes on the HTTP
 * adapter directly, where Nest guards do not run, so the auth handler is mounted in front of them.
 */
export function setupConsoleApiDocs(app: INestApplication): OpenAPIObject {
  const document = consoleApiDocument(app);
  app.use(`/${CONSOLE_API_DOCS_PATH}`, consoleAuthHandler(app.get(ConsoleAuthService), { appliesTo: () => true }));
  SwaggerModule.setup(CONSOLE_API_DOCS_PATH, app, document, {
    jsonDocumentUrl: `${CONSOLE_API_DOCS_PATH}/openapi.json`,
    yamlDocumentUrl: `${CONSOLE_API_DOCS_PATH}/openapi.yaml`,
  });
  return document;
}
