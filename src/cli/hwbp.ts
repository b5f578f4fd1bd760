#!/usr/bin/env node
/**
 * The `hwbp` command line. Each subcommand lives in its own module; this file only dispatches.
 */
import { HwbpError } from '../hwbp';
import { runDemo } from './demo';

const USAGE = `usage: hwbp <command>

commands:
  demo    a guided tour of the simulated hw_breakpoint layer (registers, ENOSPC, flexible time-sharing)
  help    this text
`;

export function main(argv: string[]): number {
  const [command, ...rest] = argv;
  switch (command) {
    case 'demo':
      if (rest.length > 0) {
        process.stderr.write(`hwbp demo: unexpected argument '${rest[0]}'\n`);
        return 2;
      }
      runDemo();
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`hwbp: unknown command '${command}'\n${USAGE}`);
      return 2;
  }
}

if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (e) {
    // Our own errors carry a message meant for people; anything else is a bug worth its stack.
    if (e instanceof HwbpError) {
      process.stderr.write(`hwbp: ${e.message}\n`);
      process.exitCode = 1;
    } else {
      throw e;
    }
  }
}
