/** Why an fMP4 stream was refused. The packager stops only the rendition that produced it. */
export type CmafErrorCode =
  /** A 64-bit box size that does not fit in a safe integer. */
  | 'size-overflow'
  /** A box header announces fewer bytes than its own header. */
  | 'size-too-small'
  /** A box larger than any fragment we accept. */
  | 'absurd-size'
  /** A child box extends past its parent, or the stream ended inside a box. */
  | 'truncated-box'
  /** A required box is missing (moov without trak, moof without traf...). */
  | 'missing-box'
  /** Boxes in an order we cannot package (a fragment before the init segment...). */
  | 'unexpected-box'
  /** A field with a value outside what the format allows. */
  | 'invalid-field';

export class CmafError extends Error {
  override readonly name = 'CmafError';
  constructor(
    readonly code: CmafErrorCode,
    message: string,
  ) {
    super(message);
  }
}
