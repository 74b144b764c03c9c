// The `client` world in Node.js: the producer component that does its own
// I/O (the core's driver over wasi:sockets), transpiled by jco
// (`bash scripts/build.sh` does it) and run on jco's preview2-shim, which
// implements wasi:sockets with node's sockets. No loop here: the component
// drives the network during sendBatch / flush / close.
//
//   node examples/node/client.mjs --bootstrap HOST:PORT --topic T [--count N] [-X key=value ...]
//
// Without --count it produces each line of stdin ("key<TAB>value", or just
// a value). Prints the same summary line as kafka-produce; exits 1 if any
// record failed, 2 for a bad configuration.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { homedir } from 'node:os';

const gen = process.env.KAFKA_CLIENT_JS
  ?? join(process.env.KPC_CACHE ?? join(homedir(), '.cache/kafka-producer-component'), 'node/client-gen/client.js');
const { clientProducer } = await import(gen);

const args = process.argv.slice(2);
const opt = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const bootstrap = opt('--bootstrap');
const topic = opt('--topic') ?? 'lines';
const count = opt('--count');
if (!bootstrap) {
  console.error('usage: node client.mjs --bootstrap HOST:PORT --topic T [--count N] [-X key=value ...]');
  process.exit(2);
}
const config = [['bootstrap.servers', bootstrap], ['client.id', 'kafka-produce-node-client']];
args.forEach((a, i) => { if (a === '-X') { const [k, ...v] = args[i + 1].split('='); config.push([k, v.join('=')]); } });

const enc = new TextEncoder();
const lines = count !== undefined
  ? Array.from({ length: Number(count) }, (_, i) => `key-${i % 97}\tvalue-${i}`)
  : readFileSync(0, 'utf8').split('\n').filter((l) => l.length > 0);

let p;
try {
  p = clientProducer.Producer.open(config);
} catch (e) {
  const err = e.payload ?? e;
  console.error(`invalid configuration \`${err.key}\`: ${err.reason ?? err.message}`);
  process.exit(2);
}

let delivered = 0;
let failed = 0;
const errors = new Set();
const tally = (reports) => {
  for (const r of reports) {
    if (r.error) { failed += r.records.length; if (errors.size < 5) errors.add(`${r.topic}[${r.partition}]: ${r.error.message}`); }
    else delivered += r.records.length;
  }
};

const start = process.hrtime.bigint();
let bytes = 0;
const CHUNK = 1000;
for (let i = 0; i < lines.length; i += CHUNK) {
  const batch = lines.slice(i, i + CHUNK).map((l) => {
    const tab = l.indexOf('\t');
    const [key, value] = tab >= 0 ? [enc.encode(l.slice(0, tab)), enc.encode(l.slice(tab + 1))] : [undefined, enc.encode(l)];
    bytes += (key ? key.length : 0) + value.length;
    return { key, value, headers: [] };
  });
  // Blocks (driving the network) while the queue is full, up to max.block.ms.
  for (const r of p.sendBatch(topic, batch)) {
    if (r.tag === 'err') { failed += 1; if (errors.size < 5) errors.add(`refused: ${r.val.message}`); }
  }
  tally(p.pollReports(0n));
}
p.flush(120000n);
tally(p.close(30000n));

const secs = Number(process.hrtime.bigint() - start) / 1e9;
console.log(`records: ${lines.length}  delivered: ${delivered}  failed: ${failed}  bytes: ${bytes}  time: ${secs.toFixed(3)} s  ${(delivered / secs).toFixed(0)} msgs/s  ${(bytes / secs / 1e6).toFixed(2)} MB/s`);
for (const e of errors) console.log(`error: ${e}`);
process.exit(failed > 0 ? 1 : 0);
