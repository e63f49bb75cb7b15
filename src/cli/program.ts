/** The `vfido` command line: argv → one of the src/ functions. Thin by design. */
import { Command, CommanderError, Option } from 'commander';
import { CliError } from './errors.ts';
import type { CliIo } from './io.ts';
import { runStart, type StartFlags } from './start.ts';
import { runInfo, type InfoFlags } from './info.ts';
import { addControlCommands } from './control/commands.ts';

const VERSION = '0.1.0';

function buildProgram(io: CliIo, setResult: (p: Promise<number>) => void): Command {
  const program = new Command('vfido')
    .description('A virtual FIDO2 / CTAP 2.1 security key')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  program
    .command('start')
    .description('run a virtual key on UDP (SoloKeys simulator convention) until SIGINT/SIGTERM')
    .addOption(new Option('--transport <name>', 'transport (only udp from the CLI)').choices(['udp', 'memory']).default('udp'))
    .option('--host <address>', 'address to listen on (default 127.0.0.1)')
    .option('--port <port>', 'UDP port, 0 = any free port (env VFIDO_PORT; default 8111)')
    .option('--store <path>', 'store file (env VFIDO_STORE; default in the per-user data directory)')
    .option('--memory-store', 'keep state in memory only (lost on exit)')
    .option('--profile <name>', 'device profile')
    .addOption(new Option('--attestation <mode>', 'attestation').choices(['none', 'self', 'basic']))
    .option('--seed <seed>', 'deterministic mode: seeded randomness and RFC 6979 signatures')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (env VFIDO_LOG_LEVEL; default info)')
    .addOption(new Option('--presence <mode>', 'what the simulated user does on a touch request').choices(['approve', 'deny', 'timeout']))
    .option('--presence-delay <ms>', 'milliseconds the user takes to touch (default 0)')
    .option('--presence-timeout <ms>', "milliseconds before a touch request times out in 'timeout' mode (default 30000)")
    .option('--profile-override <name=value>', 'old-firmware limit, repeatable (maxCredentialCountInList, maxCredentialIdLength, residentCredentialCapacity, firmwareVersion)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--control-port <port>', 'HTTP control API port on 127.0.0.1 (env VFIDO_CONTROL_PORT; default 8112, or any free port with --port 0)')
    .option('--control-host <address>', 'HTTP control API address (default 127.0.0.1; others need --control-allow-remote)')
    .option('--control-allow-remote', 'allow a non-loopback --control-host (the token is still required)')
    .option(
      '--control-allowed-host <name>',
      'a host name or address (no port) the control API accepts in the Host header, besides loopback and the bind address; repeatable',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option('--token-file <path>', 'where to write the control token (default: <data dir>/control-<port>.token, mode 0600)')
    .option('--no-control', 'no HTTP control API')
    .option('--scenario <file.yaml>', 'start in a scenario: its profile, state and fault rules (a memory store unless --store)')
    .action((flags: StartFlags) => setResult(runStart(flags, io)));

  program
    .command('info')
    .description('print authenticatorGetInfo of a running key (over UDP)')
    .option('--host <address>', 'address of the key (default 127.0.0.1)')
    .option('--port <port>', 'UDP port (env VFIDO_PORT; default 8111)')
    .option('--json', 'machine-readable output')
    .option('--timeout <ms>', 'how long to wait for an answer (default 2000)')
    .action((flags: InfoFlags) => setResult(runInfo(flags, io)));

  addControlCommands(program, io, setResult);
  return program;
}

/** Run the CLI; resolves with the process exit status. Never throws. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  let result: Promise<number> = Promise.resolve(0);
  const program = buildProgram(io, (p) => (result = p));
  try {
    await program.parseAsync(argv);
    return await result;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode; // commander already printed help / the error
    if (e instanceof CliError) {
      io.err(`vfido: ${e.message}`);
      return e.exitCode;
    }
    io.err(`vfido: unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return 1;
  }
}
