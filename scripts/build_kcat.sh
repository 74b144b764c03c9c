#!/usr/bin/env bash
# The C peer of scripts/bench.sh: kcat 1.7.1 statically linked against
# librdkafka 2.12.1 (with OpenSSL, so it is the TLS peer too), built from
# registry sources once and cached under $KPC_CACHE. Prints the path of kcat.
#   bash scripts/build_kcat.sh
#
# Why not Debian's kcat: it links librdkafka 2.0.2, which fails to parse the
# tagged fields of Tansu's ApiVersions v3 response ("Read underflow").
# Sources: librdkafka is the copy inside the crates.io crate rdkafka-sys
# (fetched with cargo); kcat is Debian's source package "kafkacat" (its
# .orig tarball, fetched with apt-get source through a private deb-src list,
# leaving the system's apt configuration alone). A minute or two on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
rdk_crate=4.10.0+2.12.1
prefix="$KPC_CACHE/kcat-1.7.1-librdkafka-2.12.1"
if [ -x "$prefix/bin/kcat" ] && "$prefix/bin/kcat" -V 2>/dev/null | grep -q 'librdkafka 2.12.1'; then
    echo "$prefix/bin/kcat"
    exit 0
fi
src="$prefix/src"
rm -rf "$src"
mkdir -p "$src" "$prefix/bin"
log="$src/build.log"
echo "build_kcat: building kcat 1.7.1 on librdkafka 2.12.1 into $prefix (log: $log)" >&2

need=(build-essential pkg-config zlib1g-dev libzstd-dev libssl-dev)
if ! dpkg -s "${need[@]}" >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
fi

# librdkafka: the sources vendored in rdkafka-sys, from cargo's registry cache.
cargo_home=${CARGO_HOME:-$HOME/.cargo}
find_crate() { ls "$cargo_home"/registry/cache/*/"rdkafka-sys-$rdk_crate.crate" 2>/dev/null | head -1; }
crate=$(find_crate || true)
if [ -z "$crate" ]; then
    mkdir -p "$src/fetch/src"
    printf '[package]\nname = "fetch-rdkafka-sys"\nversion = "0.0.0"\nedition = "2021"\n\n[dependencies]\nrdkafka-sys = { version = "=%s", default-features = false }\n' \
        "$rdk_crate" >"$src/fetch/Cargo.toml"
    : >"$src/fetch/src/lib.rs"
    (cd "$src/fetch" && CARGO_TARGET_DIR="$src/fetch/target" cargo fetch -q)
    crate=$(find_crate)
fi
tar xzf "$crate" -C "$src"
rdk="$src/rdkafka-sys-$rdk_crate/librdkafka"

# kcat: Debian's kafkacat source, the .orig tarball only.
apt_dir="$src/apt"
mkdir -p "$apt_dir/lists/partial"
. /etc/os-release
mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$mirror" ] || { echo "build_kcat: no apt mirror found in /etc/apt" >&2; exit 1; }
echo "deb-src $mirror ${VERSION_CODENAME:-bookworm} main" >"$apt_dir/sources.list"
apt_opts=(-o "Dir::Etc::sourcelist=$apt_dir/sources.list" -o "Dir::Etc::sourceparts=-" -o "Dir::State::Lists=$apt_dir/lists")
apt-get "${apt_opts[@]}" update -qq >>"$log" 2>&1
# The Debian packaging tarball may be missing on a mirror; the .orig is enough.
(cd "$src" && apt-get "${apt_opts[@]}" source --download-only kafkacat >>"$log" 2>&1 || true)
orig=$(ls "$src"/kafkacat_1.7.1*.orig.tar.gz 2>/dev/null | head -1 || true)
[ -n "$orig" ] || { echo "build_kcat: Debian's kafkacat 1.7.1 source was not found" >&2; exit 1; }
tar xzf "$orig" -C "$src"
kc=$(ls -d "$src"/kafkacat-1.7.1* | head -1)

jobs=$(nproc)
# librdkafka as a static library with OpenSSL; no GSSAPI, no curl.
(cd "$rdk" && ./configure --prefix="$prefix" --disable-gssapi --disable-curl --enable-static \
    && make -j"$jobs" libs && make -C src install) >>"$log" 2>&1 \
    || { echo "build_kcat: librdkafka failed, see $log" >&2; exit 1; }
(cd "$kc" && PKG_CONFIG_PATH="$prefix/lib/pkgconfig" ./configure --prefix="$prefix" \
        --disable-json --disable-avro --CFLAGS="-I$prefix/include" --LDFLAGS="-L$prefix/lib" \
    && make -j"$jobs" LIBS="$prefix/lib/librdkafka.a -lssl -lcrypto -lzstd -lz -lm -ldl -lpthread -lrt" kcat) >>"$log" 2>&1 \
    || { echo "build_kcat: kcat failed, see $log" >&2; exit 1; }
cp "$kc/kcat" "$prefix/bin/kcat"
"$prefix/bin/kcat" -V | grep -q 'librdkafka 2.12.1' \
    || { echo "build_kcat: the built kcat does not report librdkafka 2.12.1" >&2; exit 1; }
echo "$prefix/bin/kcat"
