import { PROTO_LOADER_OPTIONS, protoRoot, WORKER_PROTO_FILE, WORKER_PROTO_PACKAGE } from '@agent-conductor/contracts';
import { Transport, type GrpcOptions } from '@nestjs/microservices';
import type { ConductorConfig } from '../config/env.validators';

/** The gRPC server workers dial, mounted on the HTTP app as a microservice. */
export function workerGrpcOptions(config: Pick<ConductorConfig, 'grpcListenAddr'>): GrpcOptions {
  return {
    transport: Transport.GRPC,
    options: {
      package: WORKER_PROTO_PACKAGE,
      protoPath: WORKER_PROTO_FILE,
      loader: { ...PROTO_LOADER_OPTIONS, includeDirs: [protoRoot()] },
      url: config.grpcListenAddr,
    },
  };
}
