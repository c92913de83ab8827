import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** A real SMTP server on a loopback port that keeps every message it receives, parsed. */
export interface MailSink {
  readonly url: string;
  readonly messages: ParsedMail[];
  /** Envelope recipients of each message, in arrival order. */
  readonly recipients: string[][];
  close(): Promise<void>;
}

export async function startMailSink(): Promise<MailSink> {
  const messages: ParsedMail[] = [];
  const recipients: string[][] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((mail) => {
          messages.push(mail);
          recipients.push(session.envelope.rcptTo.map((r) => r.address));
          callback();
        })
        .catch(callback);
    },
  });
  // A client that dies mid-conversation (a server process killed by a test) resets its connection;
  // smtp-server reports that as an 'error' event, which would otherwise be thrown.
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    recipients,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export interface ReceivedHook {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A real HTTP server that records every POST; `failNext` makes the next calls answer 500. */
export interface HookReceiver {
  readonly url: string;
  readonly received: ReceivedHook[];
  failNext: number;
  close(): Promise<void>;
}

export async function startHookReceiver(): Promise<HookReceiver> {
  const receiver = {
    url: '',
    received: [] as ReceivedHook[],
    failNext: 0,
    close: async () => {},
  };
  const server = createServer((req, res) => {
    let body = '';
    // A sender killed mid-request resets the connection: not the receiver's error.
    req.on('error', () => {});
    req.setEncoding('utf8');
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      receiver.received.push({ headers: req.headers, body });
      if (receiver.failNext > 0) {
        receiver.failNext--;
        res.writeHead(500).end('try later');
      } else {
        res.writeHead(204).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  receiver.url = `http://127.0.0.1:${port}/hooks/seatmeter`;
  receiver.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}

/** Resolves once `check` is true, polling; fails with `what` after `timeoutMs`. */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
