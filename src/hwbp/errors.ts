/**
 * The one error class of the hw_breakpoint layer.
 *
 * `code` is the errno name the real kernel would return for the same request, so a debugger built
 * on this layer can react to it exactly as it would to the syscall (ENOSPC → "no debug register
 * free", EINVAL → "the request itself is wrong"). The message always names the field, register or
 * task at fault. A call that throws has changed nothing.
 */
export type Errno = 'ENOSPC' | 'EINVAL' | 'EOPNOTSUPP' | 'EIO' | 'ESRCH' | 'EPERM' | 'EBADF';

export class HwbpError extends Error {
  readonly code: Errno;

  constructor(code: Errno, message: string) {
    super(`${code}: ${message}`);
    this.name = 'HwbpError';
    this.code = code;
  }
}

export function fail(code: Errno, message: string): never {
  throw new HwbpError(code, message);
}

/** Formats an address the way kernel and debugger people read them. */
export function hex(value: number | bigint): string {
  return '0x' + value.toString(16);
}

/** Structured detail of an ENOSPC: the situation that would overflow and who holds the registers. */
export interface NoSpaceDetail {
  cpu: number;
  pid: number | null;
  slots: number;
  registerNames: string[];
  /** Pinned holders of the full situation; eventId null for one a checked plan would open. */
  holders: { eventId: number | null; owner: string; pinned: boolean; pid: number | null; cpu: number }[];
  keptForFlexible: boolean;
}

export class NoSpaceError extends HwbpError {
  readonly detail: NoSpaceDetail;

  constructor(message: string, detail: NoSpaceDetail) {
    super('ENOSPC', message);
    this.detail = detail;
  }
}
