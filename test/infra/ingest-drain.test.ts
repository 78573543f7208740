import { describe, expect, it } from 'vitest';
import { DEREGISTRATION_DELAY_S } from '../../infra/constructs/ingest/ingest.js';
import { onlyResource, synthStage } from './synth.js';

/**
 * The numbers a deploy depends on, from one stage setting: ECS deregisters a task from the NLB, waits out the
 * deregistration delay, sends SIGTERM and kills the container after its stop timeout. The task drains in between
 * (MIRROR_DRAIN_S), so its flows must survive deregistration and its 503 while draining (decision D19).
 */

// biome-ignore lint/suspicious/noExplicitAny: template JSON has no static type
type Json = any;

const DRAIN_S = 45;
const { platform } = synthStage('dev', { ingest: { drainSeconds: DRAIN_S } });

const attributes = (): Record<string, string> => {
  const tg = Object.values(platform.findResources('AWS::ElasticLoadBalancingV2::TargetGroup')).find(
    (r: Json) => r.Properties.Protocol === 'UDP' && r.Properties.Port === 9000,
  ) as Json;
  return Object.fromEntries(tg.Properties.TargetGroupAttributes.map((a: Json) => [a.Key, a.Value]));
};

describe('ingest drain timing (stopTimeout, NLB target group, MIRROR_DRAIN_S)', () => {
  it('gives the container drainSeconds after SIGTERM and tells the process the same window', () => {
    const container = (
      onlyResource(platform, 'AWS::ECS::TaskDefinition').properties.ContainerDefinitions as Json[]
    )[0];
    expect(container.StopTimeout).toBe(DRAIN_S);
    expect(container.Environment).toContainEqual({ Name: 'MIRROR_DRAIN_S', Value: String(DRAIN_S) });
  });

  it('keeps flows through deregistration and a draining 503 for drainSeconds, then cuts them', () => {
    expect(attributes()).toMatchObject({
      'deregistration_delay.timeout_seconds': String(DEREGISTRATION_DELAY_S),
      'deregistration_delay.connection_termination.enabled': 'false',
      'target_health_state.unhealthy.connection_termination.enabled': 'false',
      'target_health_state.unhealthy.draining_interval_seconds': String(DRAIN_S),
    });
    // SIGTERM comes after the delay: a delay as long as the drain would only make each replacement slower.
    expect(DEREGISTRATION_DELAY_S).toBeLessThan(DRAIN_S);
  });
});
