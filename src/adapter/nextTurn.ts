/**
 * Wait for the next turn of the event loop, so that requests (pause, disconnect) get in between
 * slices of a run. Node has setImmediate; a browser's web worker does not, and its setTimeout(0)
 * is held to 4 ms once nested, so there a MessageChannel posts to itself instead.
 */
type Schedule = (run: () => void) => void;

/** A MessageChannel's ports as the web defines them (Node's typings describe Node's own ports). */
interface Port {
  onmessage: ((event: unknown) => void) | null;
  postMessage(message: unknown): void;
  /** Node's ports have it: a port that waits must not keep the process alive. */
  unref?(): void;
}

/** Runs each callback in a later task, in order, through a channel that posts to itself. */
export function channelSchedule(): Schedule {
  const channel = new MessageChannel() as unknown as { port1: Port; port2: Port };
  const waiting: (() => void)[] = [];
  channel.port1.onmessage = () => waiting.shift()?.();
  channel.port1.unref?.();
  return (run) => {
    waiting.push(run);
    channel.port2.postMessage(null);
  };
}

const immediate = (globalThis as { setImmediate?: Schedule }).setImmediate;
let schedule: Schedule | undefined = immediate === undefined ? undefined : (run) => immediate(run);

export function nextTurn(): Promise<void> {
  schedule ??= channelSchedule();
  return new Promise<void>((resolve) => schedule!(resolve));
}
