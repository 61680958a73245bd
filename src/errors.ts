/**
 * The one error type the library throws for bad input. `message` says what was
 * wrong; `hint` says how to fix it. The CLI prints both and exits non-zero.
 */
export class SnnlmError extends Error {
  readonly hint: string;

  constructor(message: string, hint = '') {
    super(message);
    this.name = 'SnnlmError';
    this.hint = hint;
  }
}
