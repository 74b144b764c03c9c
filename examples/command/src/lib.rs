//! The produce command of both `kafka-kcat` (a WASI command: the producer
//! core in process over WASI sockets) and `kafka-produce` (the wasmtime
//! embedding driving the `engine` component over native sockets): one
//! argument parser and help text ([`args`]), one input reader
//! ([`input`]), one run loop over any [`Driver`] with its summary and exit
//! status ([`run`]). Each binary only opens its driver.

pub mod args;
pub mod input;
pub mod run;

pub use args::{help, parse, Command, Options, Parsed, UsageError, HELP};
pub use input::{open_inputs, Input};
pub use run::{run, EXIT_FAILED, EXIT_OK, EXIT_USAGE};

use kafka_producer_component::driver::{host_config, Driver, Engine, Io};
use kafka_producer_component::{Config, ConfigError};

/// The options from this process's arguments, or the status to exit with
/// now: 0 after printing the help, 2 after a usage error naming the flag.
pub fn options(command: Command) -> Result<Options, i32> {
    match parse(command, std::env::args_os().skip(1)) {
        Ok(Parsed::Run(o)) => Ok(o),
        Ok(Parsed::Help) => {
            println!("{}", help(command));
            Err(EXIT_OK)
        }
        Err(e) => Err(usage_error(command, &e)),
    }
}

/// Prints a usage error; the exit status (2).
pub fn usage_error(command: Command, e: &UsageError) -> i32 {
    eprintln!("{}: {e} (-h for help)", command.name());
    EXIT_USAGE
}

/// Prints a configuration error naming its key; the exit status (2).
pub fn config_error(command: Command, e: &ConfigError) -> i32 {
    if e.key.is_empty() {
        eprintln!("{}: {}", command.name(), e.reason);
    } else {
        eprintln!("{}: {e}", command.name());
    }
    EXIT_USAGE
}

/// Checks properties as the producer will read them, without connecting
/// (`kafka-produce` does it before starting its embedded broker).
pub fn check_config(props: &[(String, String)]) -> Result<(), ConfigError> {
    let pairs = host_config(props)?;
    Config::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))).map(|_| ())
}

/// Opens the inputs and runs: the exit status.
pub fn produce<E: Engine, I: Io>(command: Command, driver: &mut Driver<E, I>, opts: &Options) -> i32 {
    match open_inputs(opts) {
        Ok(inputs) => run(driver, opts, inputs),
        Err(e) => usage_error(command, &e),
    }
}
