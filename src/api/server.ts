/** Starts a built API listening (the serve command calls it; tests use `app.inject()` instead). Returns the address it listens on. */
import type { FastifyInstance } from 'fastify';

export interface ListenOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
}

export async function listen(app: FastifyInstance, { host, port }: ListenOptions): Promise<{ url: string; port: number }> {
  await app.listen({ host, port });
  const address = app.server.address();
  const boundPort = typeof address === 'object' && address !== null ? address.port : port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return { url: `http://${shownHost}:${boundPort}`, port: boundPort };
}
