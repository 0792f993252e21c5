import { Injectable } from '@nestjs/common';
import type { PrismaClient } from '../generated/prisma/client';

/**
 * The ingress's durable memory of GitHub delivery ids. An SQS FIFO deduplication id would forget after five
 * minutes and needs a FIFO intake queue; GitHub redelivers by hand at any later time, so the ids are kept here.
 */
@Injectable()
export class GithubWebhookDeliveryRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** Records the delivery unless it was seen before; returns whether this call recorded it (first writer wins). */
  async claim(deliveryId: string, event: string): Promise<boolean> {
    const { count } = await this.prisma.githubWebhookDelivery.createMany({ data: [{ deliveryId, event }], skipDuplicates: true });
    return count === 1;
  }

  /** Forgets a delivery that could not be queued, so GitHub's redelivery of it is accepted rather than taken for a replay. */
  async release(deliveryId: string): Promise<void> {
    await this.prisma.githubWebhookDelivery.deleteMany({ where: { deliveryId } });
  }
}
