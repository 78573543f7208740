import { join } from 'node:path';
import { Duration } from 'aws-cdk-lib';
import type { IVpc } from 'aws-cdk-lib/aws-ec2';
import { FunctionUrlAuthType, type IFunctionUrl, InvokeMode } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { OperatorAuthEnv } from '../../../core/contracts/env.js';
import { CONNECTION_LIFETIME_MS } from '../../../core/events/operator-events.js';
import { AppFunction } from '../app-function/app-function.js';
import { bindEnvironment } from '../binding.js';

export interface OperatorEventsProps {
  readonly vpc: IVpc;
  readonly stage: string;
  /** Directory with `<name>/handler.ts` per function: `events/handler.ts` here. */
  readonly functionsDir: string;
  /**
   * Concurrent event connections the stage allows (one invocation each): a ceiling, so a flood of connections
   * cannot take the account's concurrency from playback. @default 20 (a few operators, a few tabs each)
   */
  readonly maxConnections?: number;
}

/**
 * The operator page's live updates (decision D44): a function in response-streaming mode behind a function URL that
 * only CloudFront may invoke (IAM auth; the distribution signs through origin access control). Each invocation relays
 * the events channel to one page as Server-Sent Events and ends before its timeout; the page reconnects.
 */
export class OperatorEvents extends Construct {
  readonly function: AppFunction;
  readonly url: IFunctionUrl;

  constructor(scope: Construct, id: string, props: OperatorEventsProps) {
    super(scope, id);
    this.function = new AppFunction(this, 'Function', {
      entry: join(props.functionsDir, 'events', 'handler.ts'),
      serviceName: 'events',
      stage: props.stage,
      vpc: props.vpc,
      // The connection's own lifetime plus a margin: a connection always ends with `bye`, never by a timeout.
      timeout: Duration.millis(CONNECTION_LIFETIME_MS + 60_000),
      // It holds a socket and relays small JSON: the smallest memory class that keeps a cold start short.
      memorySize: 256,
      reservedConcurrency: props.maxConnections ?? 20,
    });
    this.url = this.function.function.addFunctionUrl({
      authType: FunctionUrlAuthType.AWS_IAM,
      // Written as produced: a buffered function URL would hold every event until the invocation ends.
      invokeMode: InvokeMode.RESPONSE_STREAM,
    });
  }

  /**
   * The operators' Cognito user pool whose tokens the function accepts (as /api/operator's authorizer). The pool, not
   * its app client: core/contracts/env.ts OperatorAuthEnv says why.
   */
  trustOperators(issuer: string): void {
    bindEnvironment(this.function, OperatorAuthEnv, { MIRROR_OPERATOR_ISSUER: issuer });
  }
}
