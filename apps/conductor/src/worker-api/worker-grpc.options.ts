import { PROTO_LOADER_OPTIONS, protoRoot, WORKER_PROTO_FILE, WORKER_PROTO_PACKAGE } from '@agent-conductor/contracts';
import { ServerCredentials } from '@grpc/grpc-js';
import { Transport, type GrpcOptions } from '@nestjs/microservices';
import type { ConductorConfig } from '../config/env.validators';

/**
 * TLS when CONDUCTOR_TLS_CERT/KEY are set, plaintext otherwise (the local
 * default). With CONDUCTOR_TLS_CLIENT_CA, a worker must also present a
 * certificate that CA signed.
 */
export function workerServerCredentials(config: Pick<ConductorConfig, 'grpcTls'>): ServerCredentials {
  const tls = config.grpcTls;
  if (!tls) return ServerCredentials.createInsecure();
  return ServerCredentials.createSsl(tls.clientCa ?? null, [{ cert_chain: tls.certChain, private_key: tls.privateKey }], tls.clientCa !== undefined);
}

/** The gRPC server workers dial, mounted on the HTTP app as a microservice. */
export function workerGrpcOptions(config: Pick<ConductorConfig, 'grpcListenAddr' | 'grpcTls'>): GrpcOptions {
  return {
    transport: Transport.GRPC,
    options: {
      package: WORKER_PROTO_PACKAGE,
      protoPath: WORKER_PROTO_FILE,
      loader: { ...PROTO_LOADER_OPTIONS, includeDirs: [protoRoot()] },
      url: config.grpcListenAddr,
      credentials: workerServerCredentials(config),
    },
  };
}
