//! One request's produce: open a producer on the driver, send the records,
//! flush until every record has its report, and turn the reports into the
//! answer's outcomes in request order. Generic over the driver's `Io`, so
//! the same code runs over `WasiIo` in the component and natively.

use std::collections::HashMap;

use kafka_producer_component::driver::{Driver, Io};
use kafka_producer_component::error_codes::is_retriable;
use kafka_producer_component::packed::Packed;
use kafka_producer_component::{ErrorKind, ProduceError};

use crate::rest::{Failure, Outcome};
use crate::settings::Settings;

/// The proxy's classification of a record's error: 2 when sending it again
/// may succeed, else 1.
fn error_code(e: &ProduceError) -> u8 {
    let retriable = match e.kind {
        ErrorKind::TimedOut | ErrorKind::QueueFull => true,
        ErrorKind::Broker | ErrorKind::TopicFailed => is_retriable(e.code),
        _ => false,
    };
    if retriable {
        2
    } else {
        1
    }
}

fn failed(partition: Option<i32>, e: &ProduceError) -> Outcome {
    Outcome::Failed { partition, error_code: error_code(e), error: e.message.clone() }
}

/// Produces `records` to `topic` and waits for their reports. A bad
/// producer property is a 500 naming it; whatever befalls a record (a
/// topic the cluster does not have included: it times out waiting for
/// metadata, as in the Java client) is in its outcome.
pub fn produce<I: Io>(io: I, settings: &Settings, topic: &str, records: &Packed) -> Result<Vec<Outcome>, Failure> {
    let mut driver = Driver::open(io, &settings.properties).map_err(|e| {
        let message = if e.key.is_empty() {
            format!("the producer cannot start: {}", e.reason)
        } else {
            let var = format!("KAFKA_{}", e.key.to_ascii_uppercase().replace('.', "_"));
            format!("invalid producer property {} ({var}): {}", e.key, e.reason)
        };
        Failure::new(500, 500, message)
    })?;
    driver.on_warning = Some(Box::new(|w| eprintln!("kafka-http-proxy: {w}")));
    let engine_failed = |e: kafka_producer_component::driver::EngineFailed| Failure::new(500, 500, e.to_string());

    let sent = driver.send(topic, records, settings.wait_ms).map_err(engine_failed)?;
    // Nothing accepted (no records, or all refused): nothing to wait for.
    if driver.unreported() > 0 {
        driver.flush(settings.wait_ms).map_err(engine_failed)?;
    }

    let no_report = ProduceError::new(ErrorKind::TimedOut, "no delivery report in time".into());
    let mut outcomes: Vec<Outcome> = vec![failed(None, &no_report); records.len()];
    // Each accepted record's position, by its id; refused ones get no report.
    let mut index = HashMap::with_capacity(records.len());
    for (i, outcome) in sent.into_outcomes(records.len()).into_iter().enumerate() {
        match outcome {
            Ok(id) => {
                index.insert(id, i);
            }
            Err(e) => outcomes[i] = failed(None, &e),
        }
    }
    for report in driver.take_reports() {
        for (pos, id) in report.records.iter().enumerate() {
            let Some(&i) = index.get(id) else { continue };
            outcomes[i] = match &report.error {
                None => {
                    let offset = if report.base_offset < 0 { -1 } else { report.base_offset + pos as i64 };
                    Outcome::Stored { partition: report.partition, offset }
                }
                Some(e) => failed((report.partition >= 0).then_some(report.partition), e),
            };
        }
    }
    Ok(outcomes)
}
