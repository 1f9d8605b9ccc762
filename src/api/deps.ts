/**
 * What app.ts hands each route group (src/api/routes/*): the service context, the auth hooks and the API's
 * own counters. One object, passed as the plugins' options.
 */
import type { ServiceContext } from '../service/context.ts';
import type { Auth } from './auth.ts';
import type { SubmitQueue } from './submit-queue.ts';

export interface ApiDeps {
  ctx: ServiceContext;
  auth: Auth;
  /** Stores submissions, several in one commit when the service is busy. */
  submitQueue: SubmitQueue;
  /** Counts jobs stored by `POST /v1/jobs`, by pool class. */
  countSubmitted: (jobs: number, labels: { pool_class: string }) => void;
}
