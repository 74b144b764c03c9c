//! first-ack: how long a fresh producer takes to get its first record
//! acknowledged, in process: instantiate the engine component and create
//! the producer, then connect, handshake, fetch metadata (and a producer
//! id when idempotent), produce one record and read the ack. Repeats and
//! prints the median and the 90th percentile of each part.
//!
//!   first-ack -b HOST:PORT [-t TOPIC] [-n RUNS] [-X KEY=VALUE ...]

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use kafka_producer_component::packed::Packed;
use kafka_producer_component::Record;
use kafka_producer_host::{open_driver, Runtime};

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let (mut bootstrap, mut topic, mut runs, mut props) = (None, "first-ack".to_string(), 50usize, Vec::new());
    while let Some(a) = args.next() {
        let mut val = || args.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "-b" => bootstrap = Some(val()?),
            "-t" => topic = val()?,
            "-n" => runs = val()?.parse().context("-n takes a number")?,
            "-X" => {
                let kv = val()?;
                let (k, v) = kv.split_once('=').with_context(|| format!("-X {kv}: expected KEY=VALUE"))?;
                props.push((k.to_string(), v.to_string()));
            }
            _ => bail!("usage: first-ack -b HOST:PORT [-t TOPIC] [-n RUNS] [-X KEY=VALUE ...]"),
        }
    }
    let bootstrap = bootstrap.context("-b HOST:PORT is required")?;
    let runtime = Runtime::load_default()?;
    let mut config = vec![("bootstrap.servers".to_string(), bootstrap), ("linger.ms".to_string(), "0".to_string())];
    config.extend(props);
    let mut packed = Packed::default();
    packed.push(&Record { value: Some(b"first"), ..Default::default() });
    let (mut create, mut ack, mut total) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let t0 = Instant::now();
        let mut d = match open_driver(&runtime, &config, None)? {
            Ok(d) => d,
            Err(e) => bail!("{e}"),
        };
        let t1 = Instant::now();
        d.send(&topic, &packed, 10_000)?;
        if !d.flush(10_000)? || d.tally.delivered != 1 {
            bail!("the record was not delivered: {:?}", d.tally.errors);
        }
        let t2 = Instant::now();
        d.close(1_000)?;
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        create.push(ms(t1 - t0));
        ack.push(ms(t2 - t1));
        total.push(ms(t2 - t0));
    }
    for (name, v) in [("instantiate + create", &mut create), ("first ack", &mut ack), ("total", &mut total)] {
        println!("{name:>22}: median {:.3} ms  p90 {:.3} ms", percentile(v, 0.5), percentile(v, 0.9));
    }
    Ok(())
}
