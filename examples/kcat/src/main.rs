//! kafka-kcat: a kcat-style produce command. Built for wasm32-wasip2 it
//! runs under the wasmtime CLI
//! (`wasmtime run -S inherit-network=y kafka-kcat.wasm -b HOST:PORT -t TOPIC`)
//! with the producer core in process, driven over WASI sockets, clocks
//! and random (`driver::wasi::WasiIo`); built natively it runs over the
//! OS's sockets. Flags, input, run and summary: `kafka-produce-command`
//! (`kafka-kcat -h`).

use kafka_produce_command::{config_error, options, produce, Command};
use kafka_producer_component::driver::Driver;

const COMMAND: Command = Command::Kcat;

fn main() {
    std::process::exit(real_main());
}

fn real_main() -> i32 {
    let opts = match options(COMMAND) {
        Ok(o) => o,
        Err(code) => return code,
    };
    #[cfg(target_os = "wasi")]
    let io = kafka_producer_component::driver::wasi::WasiIo::new();
    #[cfg(not(target_os = "wasi"))]
    let io = match kafka_producer_component::driver::native::NativeIo::new() {
        Ok(io) => io,
        Err(e) => {
            eprintln!("{}: cannot set up sockets: {e}", COMMAND.name());
            return kafka_produce_command::EXIT_FAILED;
        }
    };
    let mut driver = match Driver::open(io, &opts.properties(COMMAND, "")) {
        Ok(d) => d,
        Err(e) => return config_error(COMMAND, &e),
    };
    produce(COMMAND, &mut driver, &opts)
}
