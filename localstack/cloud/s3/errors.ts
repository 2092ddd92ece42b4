/** S3's REST errors as the authorizing front answers them: an HTTP status, a code, a message and extra fields. */

export class S3Error extends Error {
  override readonly name = 'S3Error';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra elements of the `<Error>` document (`ProposedSize`, `Condition`, …). */
    readonly details: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c);
}

/** The `<Error>` document S3 answers with. */
export function s3ErrorXml(error: S3Error, requestId: string): string {
  const details = Object.entries(error.details)
    .map(([k, v]) => `<${k}>${escapeXml(v)}</${k}>`)
    .join('');
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message>${details}<RequestId>${requestId}</RequestId></Error>`
  );
}

export const accessDenied = (message: string): S3Error => new S3Error(403, 'AccessDenied', message);
export const invalidRequest = (message: string): S3Error => new S3Error(400, 'InvalidRequest', message);
export const invalidArgument = (message: string, details?: Record<string, string>): S3Error => new S3Error(400, 'InvalidArgument', message, details);
