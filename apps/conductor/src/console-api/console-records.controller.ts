import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ConsoleReadService } from './console-read.service';
import { deliveriesQuery, pageQuery, parseQuery } from './console-query.params';
import { ApiConsoleErrors, ApiPaging } from './console-api.docs';
import { DELIVERY_DETAIL, DELIVERY_ITEM, INCIDENT_DETAIL, INCIDENT_ITEM, pageOf } from './console-api.schemas';

@ApiTags('incidents')
@ApiConsoleErrors()
@Controller('api/v1/incidents')
export class ConsoleIncidentsController {
  constructor(private readonly read: ConsoleReadService) {}

  @Get()
  @ApiOperation({ summary: 'Incidents, newest first, with the incident window and cap in force' })
  @ApiPaging()
  @ApiOkResponse({ schema: pageOf(INCIDENT_ITEM) })
  list(@Query() query: unknown) {
    return this.read.incidents(parseQuery(pageQuery, query));
  }

  @Get(':id')
  @ApiOperation({ summary: 'One incident and its alarms (every state), by event time' })
  @ApiOkResponse({ schema: INCIDENT_DETAIL })
  get(@Param('id') id: string) {
    return this.read.incident(id);
  }
}

@ApiTags('deliveries')
@ApiConsoleErrors()
@Controller('api/v1/deliveries')
export class ConsoleDeliveriesController {
  constructor(private readonly read: ConsoleReadService) {}

  @Get()
  @ApiOperation({ summary: 'Messages from the intake queue, newest first, with their rejection reasons' })
  @ApiPaging()
  @ApiQuery({ name: 'rejected', required: false, enum: ['true', 'false'] })
  @ApiOkResponse({ schema: pageOf(DELIVERY_ITEM) })
  list(@Query() query: unknown) {
    const { limit, cursor, rejected } = parseQuery(deliveriesQuery, query);
    return this.read.deliveries({ rejected }, { limit, cursor });
  }

  @Get(':id')
  @ApiOperation({ summary: 'One delivery with its raw body' })
  @ApiOkResponse({ schema: DELIVERY_DETAIL })
  get(@Param('id') id: string) {
    return this.read.delivery(id);
  }
}
