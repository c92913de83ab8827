/** A response read whole, shaped like Fastify's inject answer so suites can use either. */
export interface HttpAnswer {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  json(): unknown;
}

/**
 * Sends a request over a real socket with fetch and reads the whole answer. An object payload is
 * sent as JSON; a string payload as it is, with the caller's content type.
 */
export async function http(
  base: string,
  method: string,
  url: string,
  options: { headers?: Record<string, string>; payload?: unknown } = {},
): Promise<HttpAnswer> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined;
  if (typeof options.payload === 'string') {
    body = options.payload;
  } else if (options.payload !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.payload);
  }
  const res = await fetch(`${base}${url}`, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await res.text();
  return {
    statusCode: res.status,
    headers: Object.fromEntries(res.headers.entries()),
    body: text,
    json: () => JSON.parse(text),
  };
}
