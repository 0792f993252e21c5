import { schedulerV1 } from '@agent-conductor/contracts';
import { Controller } from '@nestjs/common';
import { IngestService } from './ingest.service';

@Controller()
@schedulerV1.SchedulerServiceControllerMethods()
export class SchedulerController implements schedulerV1.SchedulerServiceController {
  constructor(private readonly ingest: IngestService) {}

  submitMessage(request: schedulerV1.SubmitMessageRequest): Promise<schedulerV1.SubmitMessageResponse> {
    return this.ingest.submit(request);
  }

  submitMessages(request: schedulerV1.SubmitMessagesRequest): Promise<schedulerV1.SubmitMessagesResponse> {
    return this.ingest.submitBatch(request);
  }
}
