/**
 * The debug adapter as a program: DAP over stdio (what VS Code starts), or with --server=PORT a TCP
 * server on 127.0.0.1 (one session per connection), for debugging the adapter itself. Node-only,
 * like wire.ts and nodeFiles.ts: the browser bundle never imports it.
 */
import { createServer, type Server } from 'node:net';
import { nodeFiles } from './nodeFiles';
import { HwbpDebugSession } from './session';
import { connectWire } from './wire';

export function serve(port: number, log: (line: string) => void = (l) => process.stderr.write(l + '\n')): Server {
  const server = createServer((socket) => {
    // One session per connection, sharing nothing with the others; it ends with its connection.
    const session = new HwbpDebugSession(nodeFiles);
    session.setRunAsServer(true);
    connectWire(session, socket, socket, {
      onDisconnected: () => socket.end(),
      onClosed: () => socket.destroy(),
    });
  });
  server.listen(port, '127.0.0.1', () => {
    const address = server.address();
    log(`hwbp debug adapter listening on 127.0.0.1:${typeof address === 'object' && address !== null ? address.port : port}`);
  });
  return server;
}

export function runAdapter(argv: string[]): void {
  const flag = argv.find((a) => a.startsWith('--server='));
  if (flag !== undefined) {
    const port = Number(flag.slice('--server='.length));
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--server=PORT: ${flag.slice(9)} is not a port number`);
    serve(port);
    return;
  }
  const session = new HwbpDebugSession(nodeFiles);
  // The adapter process belongs to its one client: it ends after disconnect, or when stdin closes.
  const exit = () => setTimeout(() => process.exit(0), 100);
  connectWire(session, process.stdin, process.stdout, { onDisconnected: exit, onClosed: exit });
}

if (require.main === module) {
  runAdapter(process.argv.slice(2));
}
