# Sourced by the project's scripts: where the prerequisites and the build go.
# CARGO_TARGET_DIR lives outside the clone so that CI runs on the same
# machine reuse the (17-minute) wasmtime build.
export KPC_CACHE=${KPC_CACHE:-$HOME/.cache/kafka-producer-component}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$KPC_CACHE/target}
export TANSU_BIN=${TANSU_BIN:-$KPC_CACHE/bin/tansu}
export KPC_PYTHON=${KPC_PYTHON:-$KPC_CACHE/venv/bin/python}
export KAFKA_PRODUCER_WASM=${KAFKA_PRODUCER_WASM:-$CARGO_TARGET_DIR/wasm32-wasip2/release/kafka_producer_component.wasm}
export KPC_WASMTIME=${KPC_WASMTIME:-$KPC_CACHE/venv/bin/wasmtime}
export PATH="$KPC_CACHE/bin:$PATH"
