// Follows contentChanged with the real clients, graphql-sse in distinct connections mode
// and graphql-ws (graphql-transport-ws), and prints one JSON line per event:
//   node follow.mjs BASE_URL EVENTS [TOKEN]
// prints {"ready": true} once both are connected, then {"client", "at", "event"} lines
// (at: when it arrived, in seconds since the epoch), and exits after EVENTS events each.
import { createClient as createSSEClient } from "graphql-sse";
import { createClient as createWSClient } from "graphql-ws";
import WebSocket from "ws";

const [base, wanted, token] = process.argv.slice(2);
const events = Number(wanted);
const query = `subscription {
  contentChanged { version previousVersion created { id uri } updated { id uri } deleted { id uri } }
}`;
const authorization = token ? { authorization: `Bearer ${token}` } : {};
const print = (line) => process.stdout.write(JSON.stringify(line) + "\n");

let connected = 0;
const onConnected = () => {
  connected += 1;
  // The server registers a stream once it starts iterating it: give both a moment.
  if (connected === 2) setTimeout(() => print({ ready: true }), 500);
};

const sse = createSSEClient({
  url: `${base}/graphql/stream`,
  headers: authorization,
  retryAttempts: 0,
});
const ws = createWSClient({
  url: `${base.replace(/^http/, "ws")}/graphql`,
  webSocketImpl: WebSocket,
  connectionParams: authorization,
  retryAttempts: 0,
  on: { connected: onConnected },
});

async function follow(name, iterator) {
  let seen = 0;
  for await (const result of iterator) {
    if (result.errors) throw new Error(`${name}: ${JSON.stringify(result.errors)}`);
    print({ client: name, at: Date.now() / 1000, event: result.data.contentChanged });
    seen += 1;
    if (seen === events) break;
  }
}

const timer = setTimeout(() => {
  console.error("timed out waiting for events");
  process.exit(2);
}, 60_000);
try {
  await Promise.all([
    follow("sse", sse.iterate({ query }, { connected: onConnected })),
    follow("ws", ws.iterate({ query })),
  ]);
} finally {
  clearTimeout(timer);
  sse.dispose();
  await ws.dispose();
}
