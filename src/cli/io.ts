/** What a CLI command touches of the process, injectable so commands can run inside tests. */
export interface CliIo {
  env: NodeJS.ProcessEnv;
  out(line: string): void;
  err(line: string): void;
  /** stdout is a terminal (a person is watching, not a log collector). */
  interactive?: boolean;
  /** Resolves when the process is asked to stop (SIGINT / SIGTERM). */
  stopSignal(): Promise<string>;
}

export function processIo(): CliIo {
  return {
    env: process.env,
    out: (line) => void process.stdout.write(line + '\n'),
    err: (line) => void process.stderr.write(line + '\n'),
    interactive: process.stdout.isTTY === true,
    stopSignal: () =>
      new Promise((resolve) => {
        const on = (sig: string): void => {
          process.off('SIGINT', on);
          process.off('SIGTERM', on);
          resolve(sig);
        };
        process.on('SIGINT', on);
        process.on('SIGTERM', on);
      }),
  };
}
