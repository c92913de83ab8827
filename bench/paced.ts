/**
 * An open-loop load generator for latency under a fixed request rate (`bench/http.ts`): each
 * request is sent when it is due (evenly spread) and timed from that moment to its answer's end, so
 * a late send counts against the server and nothing hides behind a slow answer (no coordinated
 * omission).
 *
 * It writes one pre-encoded request on raw kept-alive sockets and reads answers by their
 * `Content-Length`, not through `node:http`: on two cores shared with the server, the `node:http`
 * client's own work and garbage delayed its sends and reads by milliseconds, and that lag was
 * counted as the server's (against a server that answers at once, p99 3.0 to 8.7 ms with
 * `node:http`, 1.8 to 2.8 ms with this).
 *
 * `pacedRuns` runs the client on a worker thread, on a small heap of its own whatever the calling
 * process holds: after 2,000,000 events posted from the client's own process, `/healthz` measured
 * p99 7.2 and 8.4 ms; posted from another process, 2.6 and 3.7 ms.
 */
import { connect, type Socket } from 'node:net';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

export interface PacedTarget {
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

export interface PacedResult {
  /** Requests answered per second over the run. */
  readonly answered: number;
  /** Milliseconds from due to answered, two decimals. */
  readonly p50: string;
  readonly p99: string;
  readonly max: string;
  /** Answers other than 200. */
  readonly failed: number;
}

interface Connection {
  readonly socket: Socket;
  /** The request in flight (its number), or -1. */
  request: number;
  due: number;
  /** Bytes of the answer read so far. */
  buffer: Buffer | undefined;
}

/** Most connections open at once: when all are busy, a due request waits (and its wait counts). */
const MAX_CONNECTIONS = 64;
const HEADERS_END = '\r\n\r\n';
const CONTENT_LENGTH = /\r\ncontent-length: *(\d+)/i;

/** One target's connections, kept alive from a warm-up run into the measured one. */
export class PacedClient {
  private readonly url: URL;
  private readonly request: Buffer;
  private readonly idle: Connection[] = [];
  private readonly open = new Set<Connection>();
  /** Told about each answer and each failure of the run under way. */
  private onAnswer: (connection: Connection, status: number) => void = () => undefined;
  private onFailure: (error: Error) => void = () => undefined;

  constructor(target: PacedTarget) {
    this.url = new URL(target.url);
    const lines = [
      `${target.method} ${this.url.pathname}${this.url.search} HTTP/1.1`,
      `Host: ${this.url.host}`,
      ...Object.entries(target.headers ?? {}).map(([name, value]) => `${name}: ${value}`),
      ...(target.body === undefined ? [] : [`Content-Length: ${Buffer.byteLength(target.body)}`]),
    ];
    this.request = Buffer.from(`${lines.join('\r\n')}${HEADERS_END}${target.body ?? ''}`);
  }

  /** Sends `rate` requests a second, evenly spread, for `seconds`. */
  async run(rate: number, seconds: number): Promise<PacedResult> {
    const total = rate * seconds;
    const latencies = new Float64Array(total);
    const waiting: Array<[due: number, n: number]> = [];
    let sent = 0;
    let done = 0;
    let failed = 0;
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      const dispatch = (connection: Connection, due: number, n: number) => {
        connection.request = n;
        connection.due = due;
        connection.socket.write(this.request);
      };
      this.onFailure = reject;
      this.onAnswer = (connection, status) => {
        latencies[connection.request] = performance.now() - connection.due;
        connection.request = -1;
        if (status !== 200) failed++;
        const next = waiting.shift();
        if (next === undefined) this.idle.push(connection);
        else dispatch(connection, ...next);
        if (++done === total) resolve();
      };
      const send = (due: number, n: number) => {
        const connection = this.idle.pop() ?? (this.open.size < MAX_CONNECTIONS ? this.connect() : undefined);
        if (connection === undefined) waiting.push([due, n]);
        else dispatch(connection, due, n);
      };
      const tick = () => {
        const dueNow = Math.min(total, Math.floor(((performance.now() - t0) * rate) / 1000));
        for (; sent < dueNow; sent++) send(t0 + (sent * 1000) / rate, sent);
        // Polled, not on a 1 ms timer: a timer fires late, and a late send would count against the
        // server. The poll costs this process one core, which the single-threaded server leaves.
        if (sent < total) setImmediate(tick);
      };
      tick();
    });
    const elapsed = (performance.now() - t0) / 1000;
    latencies.sort();
    const at = (q: number) => (latencies[Math.floor(q * (total - 1))] as number).toFixed(2);
    return { answered: Math.round(total / elapsed), p50: at(0.5), p99: at(0.99), max: at(1), failed };
  }

  close(): void {
    for (const connection of this.open) connection.socket.destroy();
  }

  private connect(): Connection {
    const socket = connect(Number(this.url.port), this.url.hostname);
    socket.setNoDelay(true);
    const connection: Connection = { socket, request: -1, due: 0, buffer: undefined };
    this.open.add(connection);
    socket.on('data', (chunk: Buffer) => this.read(connection, chunk));
    socket.on('error', (error) => this.onFailure(error));
    socket.on('close', () => {
      this.open.delete(connection);
      const idle = this.idle.indexOf(connection);
      if (idle >= 0) this.idle.splice(idle, 1);
      if (connection.request >= 0)
        this.onFailure(new Error('the server closed a connection with a request in flight'));
    });
    return connection;
  }

  /** Collects an answer's bytes; once its headers and `Content-Length` bytes are in, it is done. */
  private read(connection: Connection, chunk: Buffer): void {
    const buffer = connection.buffer === undefined ? chunk : Buffer.concat([connection.buffer, chunk]);
    connection.buffer = buffer;
    const end = buffer.indexOf(HEADERS_END);
    if (end < 0) return;
    const head = buffer.toString('latin1', 0, end);
    const length = CONTENT_LENGTH.exec(head)?.[1];
    if (length === undefined) {
      this.onFailure(new Error(`an answer without Content-Length: ${head}`));
      return;
    }
    const size = end + HEADERS_END.length + Number(length);
    if (buffer.length < size) return;
    if (buffer.length > size || connection.request < 0) {
      this.onFailure(new Error('bytes beyond the answer to the one request sent'));
      return;
    }
    connection.buffer = undefined;
    // `HTTP/1.1 200 OK`: the status is the second word.
    this.onAnswer(connection, Number(head.slice(9, 12)));
  }
}

/**
 * Runs `PacedClient` on a worker thread against `target` at `rate`, once per entry of `seconds` in
 * turn on the same connections (a warm-up first, say), and answers each run's result.
 */
export function pacedRuns(
  target: PacedTarget,
  rate: number,
  seconds: readonly number[],
): Promise<PacedResult[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { paced: { target, rate, seconds } } });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the paced client's worker exited with ${code}`)));
  });
}

// On the worker `pacedRuns` starts (and not in any other worker that imports this module).
const job = (workerData as { paced?: { target: PacedTarget; rate: number; seconds: number[] } } | null)
  ?.paced;
if (!isMainThread && parentPort !== null && job !== undefined) {
  const { target, rate, seconds } = job;
  const client = new PacedClient(target);
  const results: PacedResult[] = [];
  for (const s of seconds) results.push(await client.run(rate, s));
  client.close();
  parentPort.postMessage(results);
}
