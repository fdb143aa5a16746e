// Typed errors of tokenwatch: every error carries a stable TW_ERR_<AREA>_<WHAT> code,
// whether a retry may help, and its cause. Messages never carry a raw token.

/** An error with a stable code, a retry hint and an optional cause. */
export class TokenwatchError extends Error {
  readonly code: string;
  readonly retryable: boolean;

  constructor(code: string, message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TokenwatchError';
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/** Bad configuration found at startup; names the field at fault. */
export function configError(field: string, message: string, cause?: unknown): TokenwatchError {
  return new TokenwatchError('TW_ERR_CONFIG_INVALID', `${field}: ${message}`, { cause });
}
