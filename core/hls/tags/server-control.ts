import { attributeTag, enumerated, float } from './attributes.js';

export interface ServerControl {
  readonly canBlockReload: boolean;
  /** Seconds; MUST be >= 6x TARGETDURATION when present. */
  readonly canSkipUntilS?: number;
  /** Seconds; SHOULD be >= 3x TARGETDURATION. */
  readonly holdBackS?: number;
  /** Seconds; MUST be >= 2x PART-TARGET, SHOULD be >= 3x. */
  readonly partHoldBackS?: number;
}

export function renderServerControl(control: ServerControl): string {
  return attributeTag('EXT-X-SERVER-CONTROL', {
    'CAN-BLOCK-RELOAD': control.canBlockReload ? enumerated('YES') : undefined,
    'CAN-SKIP-UNTIL': control.canSkipUntilS === undefined ? undefined : float(control.canSkipUntilS),
    'HOLD-BACK': control.holdBackS === undefined ? undefined : float(control.holdBackS),
    'PART-HOLD-BACK': control.partHoldBackS === undefined ? undefined : float(control.partHoldBackS),
  });
}
