// Player configurations Mirror publishes for integrators who bring their own player (docs/player.md). Plain data, so
// the benchmarks hand the very same objects to the players they measure (bench/stock-players.ts).

/**
 * Shaka Player 5.x: what Mirror recommends is Shaka as it comes in low-latency mode. It plays at PART-HOLD-BACK
 * without stalls since part DURATIONs add up to their segment (D31: it lays parts out by them). Its `liveSync` rate
 * control was measured too (target 0.7 s, tolerance 0.1 s, up to 1.25x) and played further behind, not closer, so
 * it is not part of the recommendation (docs/player.md).
 */
export const SHAKA_LIVE_CONFIG = { streaming: { lowLatencyMode: true } } as const;
