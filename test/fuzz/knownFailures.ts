/**
 * What the adapter still gets wrong, found by the fuzz harness (issue "A hardened adapter: no
 * crash, no hang, no cross-talk, whatever a client sends").
 *
 * KNOWN_ADAPTER_FAILURES is the one list to edit: when a fix lands, remove its id. While an id is
 * listed,
 *  - its repro (test/fuzz/repros.ts) is expected to fail: the mocha suite fails if it passes
 *    ("fixed: remove it from KNOWN_ADAPTER_FAILURES"), so the list only ever shrinks;
 *  - the random fuzz does not send the inputs it covers (`covers` below), since one crash would
 *    end the session and hide everything else the session would have found.
 * Once the list is empty, the fuzz sends everything and every repro must pass.
 */

export const FAILURE_IDS = [
  'non-string-command',
  'deep-arguments',
  'disassemble-unbounded-count',
  'disassemble-loose-count',
  'disassemble-nan-address',
  'read-memory-object-offset',
  'set-breakpoints-foreign-source',
  'breakpoint-entry-not-object',
  'frame-huge-content-length',
  'frame-loose-content-length',
  'frame-lf-only-header',
  'frame-binary-bytes',
  'frame-non-json-body',
  'frame-null-body',
  'server-trace-cross-talk',
  'server-vanished-client-runs-on',
] as const;

export type FailureId = (typeof FAILURE_IDS)[number];

/** Every failure that today's adapter still shows. Remove an id when its fix lands. */
export const KNOWN_ADAPTER_FAILURES: readonly FailureId[] = [];

/** A request as the fuzz is about to send it. */
export interface RequestShape {
  command: unknown;
  /** The arguments (the deep part, if any, is left out: see deepDepth). */
  args: unknown;
  /** Levels of nesting of arguments sent as raw text (0: none). */
  deepDepth: number;
  /** The program the session launched (for foreign sources). */
  program: string;
}

export type GarbageKind = 'bad-content-length' | 'huge-content-length' | 'loose-content-length' | 'lf-only-header' | 'binary' | 'non-json-body' | 'non-object-body' | 'null-body' | 'no-content-length';

export interface KnownFailure {
  /** What goes wrong, with the request that shows it. */
  summary: string;
  /** The fuzz inputs this failure covers (not sent while the id is listed). */
  coversRequest?: (r: RequestShape) => boolean;
  coversGarbage?: (g: GarbageKind) => boolean;
}

function obj(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** Offsets the adapter adds to an address without looking: anything but a number, or a string that is not a number. */
function nonNumeric(v: unknown): boolean {
  return v !== undefined && v !== null && typeof v !== 'number';
}

export const KNOWN_FAILURES: Record<FailureId, KnownFailure> = {
  'non-string-command': {
    summary: 'A request whose command is not a string ({"seq":N,"type":"request","command":{"toString":1}}): over stdio the adapter exits (status 0, nothing on stderr); over --server the request is never answered.',
    coversRequest: (r) => typeof r.command !== 'string',
  },
  'deep-arguments': {
    summary: 'A request whose arguments are nested 5,000 levels deep ({"a":{"a":…1…}}): the stdio adapter exits (status 0, nothing on stderr; JSON.stringify in the trace line overflows the stack); over --server it is never answered.',
    coversRequest: (r) => r.deepDepth >= 1000,
  },
  'disassemble-unbounded-count': {
    summary: 'disassemble with instructionCount 2147483648, 1e308 or "Infinity" (memoryReference "0x400000"): the adapter allocates one instruction after another until it runs out of memory (SIGABRT) or, short of that, never answers.',
    coversRequest: (r) => {
      if (r.command !== 'disassemble') return false;
      const c = obj(r.args).instructionCount;
      return (typeof c === 'number' && c > 1_000_000) || (typeof c === 'string' && Number(c) > 1_000_000) || (typeof c === 'string' && /^\s*\+?Infinity\s*$/.test(c));
    },
  },
  'disassemble-loose-count': {
    summary: 'disassemble with an instructionCount that is not a non-negative integer succeeds with another number of instructions: 1.5 gives 2, -3 gives 0, "5" gives 5, true gives 1, [] gives 0 (memoryReference "0x400000").',
    coversRequest: (r) => {
      if (r.command !== 'disassemble') return false;
      const c = obj(r.args).instructionCount;
      return !(typeof c === 'number' && Number.isInteger(c) && c >= 0);
    },
  },
  'disassemble-nan-address': {
    summary: 'disassemble with a non-numeric offset or instructionOffset ({"memoryReference":"0x400000","offset":"x","instructionCount":1}) succeeds with address "0xNaN" (a string "5" is concatenated, an object gives "[object Object]").',
    coversRequest: (r) => r.command === 'disassemble' && (nonNumeric(obj(r.args).offset) || nonNumeric(obj(r.args).instructionOffset)),
  },
  'read-memory-object-offset': {
    summary: 'readMemory with a non-numeric offset ({"memoryReference":"0x400000","offset":{},"count":4}) succeeds with address "0x4194304[object Object]" (a string offset is concatenated the same way); writeMemory adds it the same way.',
    coversRequest: (r) => (r.command === 'readMemory' || r.command === 'writeMemory') && nonNumeric(obj(r.args).offset),
  },
  'set-breakpoints-foreign-source': {
    summary: 'setBreakpoints for another file ({"source":{"path":"/tmp/other.hwsim"},"breakpoints":[{"line":20}]}) is applied to the launched program: the breakpoint comes back verified at that line of the program, and the program stops there.',
    coversRequest: (r) => r.command === 'setBreakpoints' && obj(obj(r.args).source).path !== r.program,
  },
  'breakpoint-entry-not-object': {
    summary: 'setFunctionBreakpoints / setDataBreakpoints whose breakpoints array holds a non-object or a non-string name/dataId ({"breakpoints":["x"]}, {"breakpoints":[42]}, {"breakpoints":[{"name":{}}]}) succeed with messages built from junk: "no function or thread named \'undefined\'", "unknown dataId \'undefined\'", "…named \'[object Object]\'".',
    coversRequest: (r) => {
      if (typeof r.command !== 'string' || !/^set(Data|Function|Instruction)?Breakpoints$/.test(r.command)) return false;
      const bps = obj(r.args).breakpoints;
      if (!Array.isArray(bps)) return false;
      return bps.some((b) => typeof b !== 'object' || b === null || Array.isArray(b)
        || ['name', 'dataId', 'instructionReference', 'condition', 'hitCondition', 'mode', 'accessType'].some((k) => k in b && typeof (b as Record<string, unknown>)[k] !== 'string')
        || ['line', 'offset'].some((k) => k in b && typeof (b as Record<string, unknown>)[k] !== 'number'));
    },
  },
  'frame-huge-content-length': {
    summary: 'A header "Content-Length: 99999999999999" (or 2147483648): the adapter waits for that many bytes and never answers again, though it stays alive.',
    coversGarbage: (g) => g === 'huge-content-length',
  },
  'frame-loose-content-length': {
    summary: 'A Content-Length that is not decimal digits but that Number() reads as a number ("Content-Length: 0x10", "1.5", "1e1", "+3", "0b11", with no body): the adapter takes that many bytes of the next frame as this one\'s body; over stdio it then exits (status 0, nothing on stderr), over --server it never answers again.',
    coversGarbage: (g) => g === 'loose-content-length',
  },
  'frame-lf-only-header': {
    summary: 'A frame with LF-only header lines ("Content-Length: 2\\n\\n{}"): the adapter never answers again, though it stays alive.',
    coversGarbage: (g) => g === 'lf-only-header',
  },
  'frame-binary-bytes': {
    summary: 'Binary bytes between frames (e.g. 00 ff 01 02 03 c8): the header of the next frame is read as part of the junk, and the adapter never answers again, though it stays alive.',
    coversGarbage: (g) => g === 'binary',
  },
  'frame-non-json-body': {
    summary: 'A frame whose body is not JSON ("Content-Length: 9\\r\\n\\r\\n{not json"): the stdio adapter exits 100 ms later (status 0, nothing on stderr), answering nothing after it.',
    coversGarbage: (g) => g === 'non-json-body',
  },
  'frame-null-body': {
    summary: 'A frame whose body is the JSON null ("Content-Length: 4\\r\\n\\r\\nnull"): the stdio adapter exits (status 0, nothing on stderr); over --server it is ignored.',
    coversGarbage: (g) => g === 'null-body',
  },
  'server-trace-cross-talk': {
    summary: 'Two --server sessions launched with "trace": true: the protocol log of the first goes to the debug console (output events) of the second (the logger is one global, bound to the last session started).',
  },
  'server-vanished-client-runs-on': {
    summary: 'A --server client that closes its socket without disconnect while its program runs (test/fixtures/loop.hwsim, continue): the program keeps running in the server, which stays at ~80–100% of a core with no client left.',
  },
};

export function isKnown(id: FailureId, known: readonly FailureId[] = KNOWN_ADAPTER_FAILURES): boolean {
  return known.includes(id);
}

/** The listed failure that covers this request, if any (the fuzz skips it). */
export function coveringRequest(r: RequestShape, known: readonly FailureId[] = KNOWN_ADAPTER_FAILURES): FailureId | null {
  return known.find((id) => KNOWN_FAILURES[id].coversRequest?.(r) === true) ?? null;
}

export function coveringGarbage(g: GarbageKind, known: readonly FailureId[] = KNOWN_ADAPTER_FAILURES): FailureId | null {
  return known.find((id) => KNOWN_FAILURES[id].coversGarbage?.(g) === true) ?? null;
}
