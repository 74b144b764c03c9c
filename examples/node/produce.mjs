// A Node.js host for the kafka:producer engine component, transpiled to
// JavaScript by jco (`bash scripts/build.sh` does it). The component does no
// I/O: this file opens the TCP connections it asks for with node:net, feeds
// back what arrives, and supplies the clock, exactly as the wasmtime host
// does. Records go over in one buffer per call (send-packed).
//
//   node examples/node/produce.mjs --bootstrap HOST:PORT --topic T [--count N] [-X key=value ...]
//
// Without --count it produces each line of stdin ("key<TAB>value", or just
// a value). Prints the same summary line as kafka-produce; exits 1 if any
// record failed.

import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { homedir } from 'node:os';

const gen = process.env.KAFKA_PRODUCER_JS
  ?? join(process.env.KPC_CACHE ?? join(homedir(), '.cache/kafka-producer-component'), 'node/gen/kafka_producer.js');
const { producer } = await import(gen);

const args = process.argv.slice(2);
const opt = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const bootstrap = opt('--bootstrap');
const topic = opt('--topic') ?? 'lines';
const count = opt('--count');
if (!bootstrap) {
  console.error('usage: node produce.mjs --bootstrap HOST:PORT --topic T [--count N] [-X key=value ...]');
  process.exit(2);
}
const config = [['bootstrap.servers', bootstrap], ['client.id', 'kafka-produce-node']];
args.forEach((a, i) => { if (a === '-X') { const [k, ...v] = args[i + 1].split('='); config.push([k, v.join('=')]); } });
// The component reads no files: the TLS files (CA, client certificate
// and key) are read here and passed as their *.pem settings.
for (const [location, pem] of [['ssl.ca.location', 'ssl.ca.pem'], ['ssl.certificate.location', 'ssl.certificate.pem'], ['ssl.key.location', 'ssl.key.pem']]) {
  const i = config.findIndex(([k]) => k === location);
  if (i >= 0 && !config.some(([k]) => k === pem)) config[i] = [pem, readFileSync(config[i][1], 'utf8')];
}

// Records as [key, value] byte arrays.
const enc = new TextEncoder();
const lines = count !== undefined
  ? Array.from({ length: Number(count) }, (_, i) => `key-${i % 97}\tvalue-${i}`)
  : readFileSync(0, 'utf8').split('\n').filter((l) => l.length > 0);
const records = lines.map((l) => {
  const tab = l.indexOf('\t');
  return tab >= 0 ? [enc.encode(l.slice(0, tab)), enc.encode(l.slice(tab + 1))] : [undefined, enc.encode(l)];
});

// The packed layout of send-packed (see wit/producer.wit).
function pack(recs) {
  let size = 0;
  for (const [k, v] of recs) size += 1 + (k ? 4 + k.length : 0) + 4 + v.length + 2;
  const buf = new Uint8Array(size);
  const view = new DataView(buf.buffer);
  let at = 0;
  for (const [k, v] of recs) {
    buf[at++] = (k ? 1 : 0) | 2;
    if (k) { view.setUint32(at, k.length); at += 4; buf.set(k, at); at += k.length; }
    view.setUint32(at, v.length); at += 4; buf.set(v, at); at += v.length;
    view.setUint16(at, 0); at += 2;
  }
  return buf;
}

let p;
try {
  p = producer.Producer.create(config, BigInt(Date.now()), new Uint8Array(randomBytes(32)));
} catch (e) {
  console.error(`invalid configuration: ${e.payload ?? e.message}`);
  process.exit(2);
}

const sockets = new Map();
let events = [];
let timer = null;
let unreported = 0n;
let delivered = 0;
let failed = 0;
const errors = new Set();
let wakeUp = () => {};

function step() {
  const out = p.step(events, BigInt(Date.now()));
  events = [];
  for (const c of out.connects) {
    const s = net.connect({ host: c.host, port: c.port });
    s.setNoDelay(true);
    sockets.set(c.conn, s);
    const gone = (why) => {
      if (sockets.get(c.conn) === s) {
        sockets.delete(c.conn);
        events.push({ tag: 'closed', val: [c.conn, why] });
        soon();
      }
    };
    s.on('connect', () => { events.push({ tag: 'connected', val: c.conn }); soon(); });
    s.on('data', (d) => { events.push({ tag: 'received', val: [c.conn, new Uint8Array(d)] }); soon(); });
    s.on('error', (e) => gone(e.message));
    s.on('close', () => gone('closed by the broker'));
  }
  for (const t of out.transmits) sockets.get(t.conn)?.write(t.data);
  for (const c of out.closes) { const s = sockets.get(c); sockets.delete(c); s?.destroy(); }
  for (const r of out.reports) {
    if (r.error) { failed += r.records.length; if (errors.size < 5) errors.add(`${r.topic}[${r.partition}]: ${r.error.message}`); }
    else delivered += r.records.length;
  }
  if (process.env.VERBOSE) for (const w of out.warnings) console.error(`warning: ${w}`);
  for (const s of out.statistics) console.error(s); // -X statistics.interval.ms=N
  unreported = out.unreported;
  clearTimeout(timer);
  if (out.deadline !== undefined) timer = setTimeout(step, Math.max(0, Number(out.deadline) - Date.now()));
  wakeUp();
}

let scheduled = false;
function soon() {
  if (!scheduled) { scheduled = true; setImmediate(() => { scheduled = false; step(); }); }
}
const progress = () => new Promise((resolve) => { wakeUp = resolve; setTimeout(resolve, 20); });

const start = process.hrtime.bigint();
let bytes = 0;
for (const [k, v] of records) bytes += (k ? k.length : 0) + v.length;
const CHUNK = 4096;
for (let i = 0; i < records.length;) {
  const chunk = records.slice(i, i + CHUNK);
  const outcome = p.sendPacked(topic, pack(chunk), BigInt(Date.now()));
  const full = outcome.rejected.find((r) => r.error.kind === 'queue-full');
  for (const r of outcome.rejected) {
    if (full && r.index >= full.index) break;
    failed += 1;
    if (errors.size < 5) errors.add(`rejected: ${r.error.message}`);
  }
  i += full ? full.index : chunk.length;
  step();
  if (full) await progress(); // wait for reports to free room, then resend the tail
  else await new Promise((r) => setImmediate(r));
}
p.close(30000n, BigInt(Date.now()));
step();
while (unreported > 0n) await progress();
clearTimeout(timer);
for (const s of sockets.values()) s.destroy();

const secs = Number(process.hrtime.bigint() - start) / 1e9;
console.log(`records: ${records.length}  delivered: ${delivered}  failed: ${failed}  bytes: ${bytes}  time: ${secs.toFixed(3)} s  ${(delivered / secs).toFixed(0)} msgs/s  ${(bytes / secs / 1e6).toFixed(2)} MB/s`);
for (const e of errors) console.log(`error: ${e}`);
process.exit(failed > 0 ? 1 : 0);
