//! kafka-produce: the main job. Produces records from stdin or files
//! through the `engine` component, which wasmtime runs and the driver
//! (`kafka_producer_component::driver`) drives over native sockets;
//! kcat-style flags, input, run and summary from `kafka-produce-command`
//! (`kafka-produce -h`), shared with `kafka-kcat`.
//!
//! Without `-b`, it starts an embedded Tansu broker on a free port, creates
//! the topic (`--partitions`), and stops the broker when done; the
//! configuration is checked first, so a bad one starts nothing.

use kafka_produce_command::{check_config, config_error, open_inputs, options, run, usage_error, Command, EXIT_FAILED, EXIT_USAGE};
use kafka_producer_host::broker::Broker;
use kafka_producer_host::{open_driver, Runtime};

const COMMAND: Command = Command::Produce;

fn main() {
    std::process::exit(real_main());
}

/// The exit status; what is open (the embedded broker) is dropped before
/// the process exits.
fn real_main() -> i32 {
    let opts = match options(COMMAND) {
        Ok(o) => o,
        Err(code) => return code,
    };
    // A placeholder address for the embedded broker's: everything else is
    // checked as the producer will, before anything starts.
    if let Err(e) = check_config(&opts.properties(COMMAND, "127.0.0.1:9092")) {
        return config_error(COMMAND, &e);
    }
    let inputs = match open_inputs(&opts) {
        Ok(i) => i,
        Err(e) => return usage_error(COMMAND, &e),
    };
    let runtime = match &opts.component {
        Some(p) => Runtime::load(p.as_ref()),
        None => Runtime::load_default(),
    };
    let runtime = match runtime {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{}: cannot load the engine component: {e:#}", COMMAND.name());
            return EXIT_USAGE;
        }
    };
    let embedded = match &opts.brokers {
        Some(_) => None,
        None => match Broker::start().and_then(|b| b.create_topic(&opts.topic, opts.partitions).map(|_| b)) {
            Ok(b) => {
                eprintln!("embedded Tansu broker on {} with topic {} ({} partitions)", b.bootstrap(), opts.topic, opts.partitions);
                Some(b)
            }
            Err(e) => {
                eprintln!("{}: starting the embedded broker: {e:#}", COMMAND.name());
                return EXIT_FAILED;
            }
        },
    };
    let bootstrap = embedded.as_ref().map(Broker::bootstrap).unwrap_or_default();
    let mut driver = match open_driver(&runtime, &opts.properties(COMMAND, &bootstrap), None) {
        Ok(Ok(d)) => d,
        Ok(Err(e)) => return config_error(COMMAND, &e),
        Err(e) => {
            eprintln!("{}: cannot instantiate the engine component: {e:#}", COMMAND.name());
            return EXIT_FAILED;
        }
    };
    let code = run(&mut driver, &opts, inputs);
    drop(driver);
    drop(embedded);
    code
}
