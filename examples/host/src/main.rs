//! kafka-produce: produce lines from stdin or files to a topic through the
//! engine component, kcat-style, and print a delivery summary.
//!
//! Without `-b`, it starts an embedded Tansu broker on a free port, creates
//! the topic, and stops the broker when done.

use std::io::{BufRead, BufReader, Read};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use kafka_producer_host::broker::Broker;
use kafka_producer_host::{Client, Packed, Runtime};

const USAGE: &str = "\
usage: kafka-produce [options] [FILE...]
Produces each line of FILEs (or stdin) as one record.

  -b HOST:PORT[,...]  bootstrap servers; without it an embedded Tansu broker is started
  -t TOPIC            topic (default: lines)
  -K DELIM            split each line at the first DELIM into key and value
  -p PARTITION        send every record to this partition
  -X KEY=VALUE        producer property, e.g. -X acks=1 -X linger.ms=20 (repeatable)
  --partitions N      partitions of the topic on the embedded broker (default: 3)
  --component PATH    the engine component, .wasm or precompiled .cwasm (default: the cargo build output;
                      compiled once and cached, see the README's Start-up)
  -v                  print producer warnings (dropped connections and the like)
  -h                  this help";

struct Args {
    brokers: Option<String>,
    topic: String,
    key_delim: Option<Vec<u8>>,
    partition: Option<i32>,
    props: Vec<(String, String)>,
    partitions: u32,
    component: Option<String>,
    verbose: bool,
    files: Vec<String>,
}

fn parse_args() -> Result<Args> {
    let mut a = Args {
        brokers: None,
        topic: "lines".into(),
        key_delim: None,
        partition: None,
        props: Vec::new(),
        partitions: 3,
        component: None,
        verbose: false,
        files: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut val = |name: &str| it.next().with_context(|| format!("{name} needs a value\n{USAGE}"));
        match arg.as_str() {
            "-b" => a.brokers = Some(val("-b")?),
            "-t" => a.topic = val("-t")?,
            "-K" => a.key_delim = Some(val("-K")?.into_bytes()),
            "-p" => a.partition = Some(val("-p")?.parse().context("-p takes a partition number")?),
            "-X" => {
                let kv = val("-X")?;
                let (k, v) = kv.split_once('=').with_context(|| format!("-X {kv}: expected KEY=VALUE"))?;
                a.props.push((k.into(), v.into()));
            }
            "--partitions" => a.partitions = val("--partitions")?.parse().context("--partitions takes a number")?,
            "--component" => a.component = Some(val("--component")?),
            "-v" => a.verbose = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            s if s.starts_with('-') && s != "-" => bail!("unknown option {s}\n{USAGE}"),
            _ => a.files.push(arg),
        }
    }
    Ok(a)
}

fn split_key<'a>(line: &'a [u8], delim: &[u8]) -> (Option<&'a [u8]>, &'a [u8]) {
    match line.windows(delim.len()).position(|w| w == delim) {
        Some(i) => (Some(&line[..i]), &line[i + delim.len()..]),
        None => (None, line),
    }
}

fn main() -> Result<()> {
    let args = parse_args()?;
    let embedded = match &args.brokers {
        Some(_) => None,
        None => {
            let b = Broker::start().context("starting the embedded broker")?;
            b.create_topic(&args.topic, args.partitions)?;
            eprintln!("embedded Tansu broker on {} with topic {} ({} partitions)", b.bootstrap(), args.topic, args.partitions);
            Some(b)
        }
    };
    let bootstrap = args.brokers.clone().or_else(|| embedded.as_ref().map(Broker::bootstrap)).unwrap_or_default();

    let runtime = match &args.component {
        Some(p) => Runtime::load(p.as_ref())?,
        None => Runtime::load_default()?,
    };
    let mut props: Vec<(&str, &str)> = vec![("bootstrap.servers", &bootstrap), ("client.id", "kafka-produce")];
    props.extend(args.props.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let mut client = match Client::new(&runtime, &props)? {
        Ok(c) => c,
        Err(e) => bail!("{e}"),
    };
    client.verbose = args.verbose;

    let inputs: Vec<Box<dyn Read>> = if args.files.is_empty() || args.files == ["-"] {
        vec![Box::new(std::io::stdin())]
    } else {
        args.files.iter().map(|f| -> Result<Box<dyn Read>> { Ok(Box::new(std::fs::File::open(f).with_context(|| format!("opening {f}"))?)) }).collect::<Result<_>>()?
    };

    let start = Instant::now();
    let (mut records, mut bytes, mut failed, mut delivered, mut rejected) = (0u64, 0u64, 0u64, 0u64, 0u64);
    let mut first_errors: Vec<String> = Vec::new();
    let note_error = |msg: String, first_errors: &mut Vec<String>| {
        if first_errors.len() < 5 && !first_errors.contains(&msg) {
            first_errors.push(msg);
        }
    };
    // Lines are packed straight into one buffer per call (send-packed):
    // no allocation per record on either side of the component boundary.
    const CHUNK: usize = 4096;
    let mut chunk = Packed::default();
    let tally = |reports: Vec<kafka_producer_host::DeliveryReport>, failed: &mut u64, delivered: &mut u64, first_errors: &mut Vec<String>| {
        for r in reports {
            match r.error {
                None => *delivered += r.records.len() as u64,
                Some(e) => {
                    *failed += r.records.len() as u64;
                    note_error(format!("{}[{}]: {}", r.topic, r.partition, e.message), first_errors);
                }
            }
        }
    };
    for input in inputs {
        let mut reader = BufReader::with_capacity(1 << 20, input);
        let mut line = Vec::new();
        loop {
            line.clear();
            let n = reader.read_until(b'\n', &mut line)?;
            if n > 0 {
                if line.last() == Some(&b'\n') {
                    line.pop();
                }
                let (key, value) = match &args.key_delim {
                    Some(d) => split_key(&line, d),
                    None => (None, line.as_slice()),
                };
                bytes += (value.len() + key.map_or(0, <[u8]>::len)) as u64;
                chunk.push(&kafka_producer_component::Record { key, value: Some(value), headers: &[], partition: args.partition, timestamp: None });
            }
            if chunk.len() == CHUNK || (n == 0 && !chunk.is_empty()) {
                records += chunk.len() as u64;
                // Waits while buffer.memory / queue.buffering.max.messages
                // are full, as the Java client's send blocks.
                let sent = client.send_all_packed(&args.topic, &chunk, Duration::from_secs(600))?;
                for (_, e) in sent.rejected {
                    rejected += 1;
                    note_error(format!("rejected: {}", e.message), &mut first_errors);
                }
                tally(sent.reports, &mut failed, &mut delivered, &mut first_errors);
                chunk.clear();
                let reports = client.step_now()?;
                tally(reports, &mut failed, &mut delivered, &mut first_errors);
            }
            if n == 0 {
                break;
            }
        }
    }
    // delivery.timeout.ms bounds how long this can take; allow it fully.
    let reports = client.close(Duration::from_secs(600))?;
    tally(reports, &mut failed, &mut delivered, &mut first_errors);
    let secs = start.elapsed().as_secs_f64().max(1e-9);

    println!(
        "records: {records}  delivered: {delivered}  failed: {}  bytes: {bytes}  time: {secs:.3} s  {:.0} msgs/s  {:.2} MB/s  wire: {} bytes",
        failed + rejected,
        delivered as f64 / secs,
        bytes as f64 / secs / 1e6,
        client.stats().bytes_sent
    );
    for e in &first_errors {
        println!("error: {e}");
    }
    drop(embedded);
    if failed + rejected > 0 {
        std::process::exit(1);
    }
    Ok(())
}
