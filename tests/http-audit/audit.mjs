// Run graphql-http's GraphQL-over-HTTP server audits against a running server.
//
//   node tests/http-audit/audit.mjs http://127.0.0.1:8000/graphql
//
// Prints one JSON line per audit, {"id", "name", "status", "reason"} with status
// "ok", "warn" (a SHOULD failed), "error" (a MUST failed) or "notice" (a MAY
// failed), then one {"summary": {...}} line. Exits 1 if any MUST failed, 2 on a
// usage error. Audits run one after another so the server log reads in order.
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!url || !/^https?:\/\//.test(url)) {
  console.error('usage: node audit.mjs http://HOST:PORT/graphql');
  process.exit(2);
}

/** A short description of the response that made an audit fail. */
async function describe(response) {
  if (!response || typeof response.status !== 'number') return undefined;
  let body = '';
  try {
    body = await response.text();
  } catch {
    body = '(body already read)';
  }
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    body: body.length > 300 ? `${body.slice(0, 300)}...` : body,
  };
}

const counts = { ok: 0, warn: 0, error: 0, notice: 0 };
for (const { id, name, fn } of serverAudits({ url, fetchFn: fetch })) {
  let line;
  try {
    const result = await fn();
    line = { id, name, status: result.status, reason: result.reason ?? null };
    if (result.status !== 'ok') line.response = await describe(result.response);
  } catch (err) {
    // The audit could not run at all (server down, connection reset): report a
    // failure of this audit's level rather than stopping the whole run.
    const status = name.startsWith('MUST') ? 'error' : name.startsWith('SHOULD') ? 'warn' : 'notice';
    line = { id, name, status, reason: `audit crashed: ${err?.stack ?? err}` };
  }
  counts[line.status] = (counts[line.status] ?? 0) + 1;
  console.log(JSON.stringify(line));
}
const total = Object.values(counts).reduce((a, b) => a + b, 0);
console.log(JSON.stringify({ summary: { total, ...counts } }));
process.exit(counts.error > 0 ? 1 : 0);
