/**
 * `hwbp gdbserver`: the GDB stub over TCP on 127.0.0.1. One client at a time (another is refused
 * while one is attached); each client gets a fresh machine, stopped before main's first
 * instruction, which is torn down when the client kills, detaches or goes away.
 */
import * as net from 'node:net';
import { frame } from './packets';
import { GdbSession } from './stub';
import type { Machine } from '../target';

export interface ServerOptions {
  port: number;
  flexible: boolean;
  /** A fresh machine for each client. */
  load: () => Machine;
  elf: { path: string; image: Buffer } | null;
  /** Serve one client, then close. */
  once: boolean;
  log: (line: string) => void;
}

export interface RunningServer {
  port: number;
  close(): Promise<void>;
  /** Resolves when the server has closed (with --once, after its client). */
  closed: Promise<void>;
}

export function startGdbServer(opts: ServerOptions): Promise<RunningServer> {
  let active: { socket: net.Socket; session: GdbSession } | null = null;
  let resolveClosed: () => void = () => undefined;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    if (active !== null) {
      opts.log(`refused a second client from ${socket.remoteAddress}:${socket.remotePort}: one is attached`);
      socket.on('error', () => undefined);
      socket.end(frame('E.another GDB is attached to this hwbp gdbserver'));
      return;
    }
    let machine: Machine;
    try {
      machine = opts.load();
    } catch (e) {
      socket.on('error', () => undefined);
      socket.end(frame(`E.${(e as Error).message}`));
      return;
    }
    const end = () => {
      if (active === null || active.socket !== socket) return;
      active.session.dispose();
      active = null;
      opts.log('client gone: machine torn down');
      if (opts.once) server.close();
    };
    const session = new GdbSession({
      machine, flexible: opts.flexible, elf: opts.elf,
      write: (data) => {
        if (!socket.destroyed) socket.write(data, 'latin1');
      },
      close: () => socket.end(),
      log: opts.log,
    });
    active = { socket, session };
    opts.log(`client ${socket.remoteAddress}:${socket.remotePort} attached`);
    socket.on('data', (d) => {
      try {
        session.receive(d);
      } catch (e) {
        opts.log(`internal error: ${(e as Error).stack ?? String(e)}`);
        socket.destroy();
        end();
      }
    });
    socket.on('error', () => end());
    socket.on('close', () => end());
  });
  server.on('close', () => resolveClosed());
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', () => {
      const addr = server.address() as net.AddressInfo;
      resolve({
        port: addr.port,
        closed,
        close: () => {
          active?.socket.destroy();
          server.close();
          return closed;
        },
      });
    });
  });
}
