/**
 * Base64 for readMemory/writeMemory with the platform's atob/btoa, which Node and browsers both
 * have (Node's Buffer is not there in a web worker).
 */
import { UserError } from './common';

/** Bytes per String.fromCharCode call: well below any engine's argument limit. */
const CHUNK = 0x8000;

export function toBase64(bytes: ArrayLike<number>): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += CHUNK) {
    binary += String.fromCharCode(...Array.prototype.slice.call(bytes, i, i + CHUNK) as number[]);
  }
  return btoa(binary);
}

/** The bytes of base64 text; text that is not base64 is a UserError. */
export function fromBase64(text: string): Uint8Array {
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    throw new UserError(`'${text.length > 16 ? `${text.slice(0, 16)}…` : text}' is not base64 text`);
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
