/**
 * The worker thread of `OffThreadParser`: reads each ingest body it is sent and answers it packed.
 * Messages: `{ id, bytes, now }` in, `{ id, packed }` out.
 */
import { parentPort } from 'node:worker_threads';
import { readPackedBody, transferables } from './packed-batch.js';

const port = parentPort;
if (port === null) throw new Error('parse-worker.js runs as a worker thread');
port.on('message', (message: { id: number; bytes: Uint8Array; now: number }) => {
  const packed = readPackedBody(message.bytes, message.now);
  port.postMessage({ id: message.id, packed }, transferables(packed));
});
