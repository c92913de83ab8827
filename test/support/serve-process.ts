import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

// Tests run the sources with tsx; the benchmarks run compiled (`npm run bench:build`), and start
// the compiled CLI next to them.
const compiled = import.meta.url.endsWith('.js');
export const CLI = join(import.meta.dirname, `../../src/cli/index.${compiled ? 'js' : 'ts'}`);
const LOADER = compiled ? [] : ['--import', 'tsx'];

/** A `seatmeter serve` process, started from the sources with tsx (compiled, in the benchmarks). */
export interface ServeProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** What the process printed on stderr so far. */
  stderr(): string;
  /** SIGTERM, then the exit code (or signal). */
  stop(): Promise<number | string | null>;
}

/** Starts `seatmeter serve --port 0 ARGS...` and resolves once it prints the URL it serves on. */
export async function startServe(args: string[], env: Record<string, string> = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, [...LOADER, CLI, 'serve', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += String(chunk);
  });
  const exited = new Promise<number | string | null>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal)),
  );
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const m = /serving on (\S+)/.exec(line);
      if (m?.[1]) resolve(m[1]);
    });
    void exited.then((code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
  });
  return {
    url,
    child,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
