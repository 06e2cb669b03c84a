// Runs the npm graphql-ws client against a Linkage GraphQL endpoint for the Go tests.
// Usage: node client.mjs <ws-url> '<json [{name, query, variables}]>' ['<json connectionParams>']
// Prints one JSON object per line: {"type":"connected"}, {"sub":name,"payload":...},
// {"sub":name,"error":...}, {"sub":name,"complete":true}. Exits when stdin closes.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [url, subsJSON, paramsJSON] = process.argv.slice(2);
const subs = JSON.parse(subsJSON);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');

const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: paramsJSON ? JSON.parse(paramsJSON) : {},
  keepAlive: 10_000,
  retryAttempts: 0,
  on: {
    connected: () => out({ type: 'connected' }),
    closed: (e) => out({ type: 'closed', code: e?.code }),
  },
});

for (const s of subs) {
  client.subscribe(
    { query: s.query, variables: s.variables ?? {} },
    {
      next: (payload) => out({ sub: s.name, payload }),
      error: (e) => out({ sub: s.name, error: e instanceof Error ? e.message : JSON.stringify(e) }),
      complete: () => out({ sub: s.name, complete: true }),
    },
  );
}

process.stdin.on('end', async () => {
  await client.dispose();
  process.exit(0);
});
process.stdin.resume();
