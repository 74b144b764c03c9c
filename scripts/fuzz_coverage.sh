#!/usr/bin/env bash
# What the kept fuzz corpora reach, regenerated from the corpora themselves:
#  1. source-based line coverage of src/*.rs for the `producer` corpus
#     (structured: scripted cluster) and the `connection` corpus (arbitrary
#     bytes as broker responses), via `cargo fuzz coverage` and llvm-cov
#     (rustup component llvm-tools-preview);
#  2. reach counts for the `producer` corpus: how many inputs made the
#     cluster see each request kind and got each report outcome (the
#     target appends one line per input to $KPC_FUZZ_REACH).
# Usage: scripts/fuzz_coverage.sh [producer|connection|reach]... (default: all)
# Outputs stay under fuzz/coverage/ (not committed).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
cd fuzz
export RUSTC_BOOTSTRAP=1
triple=x86_64-unknown-linux-gnu
parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(producer connection reach)

llvm_bin() {
    local b
    b=$(ls "$(rustc --print sysroot)"/lib/rustlib/*/bin/"$1" 2>/dev/null | head -1 || true)
    if [ -z "$b" ]; then
        rustup component add llvm-tools-preview >&2
        b=$(ls "$(rustc --print sysroot)"/lib/rustlib/*/bin/"$1" | head -1)
    fi
    echo "$b"
}

coverage() {
    local target=$1
    local n
    n=$(ls "corpus/$target" | wc -l)
    echo "== line coverage of src/ by the $target corpus ($n inputs)"
    cargo fuzz coverage --sanitizer none -O "$target" "corpus/$target" >"coverage/$target.log" 2>&1 ||
        { tail -20 "coverage/$target.log"; exit 1; }
    "$(llvm_bin llvm-cov)" report "target/$triple/coverage/$triple/release/$target" \
        -instr-profile="coverage/$target/coverage.profdata" \
        -show-region-summary=false -show-branch-summary=false \
        "$(cd .. && pwd)/src/" | sed -E "s#$(cd .. && pwd)/##"
}

reach() {
    local n out
    n=$(ls corpus/producer | wc -l)
    out=coverage/reach.txt
    rm -f "$out"
    echo "== producer corpus: inputs ($n) reaching each request and outcome"
    cargo fuzz build --sanitizer none -O producer >coverage/reach.log 2>&1 || { tail -20 coverage/reach.log; exit 1; }
    # Each file named on the command line runs once.
    find corpus/producer -type f -print0 |
        KPC_FUZZ_REACH="$PWD/$out" xargs -0 "target/$triple/release/producer" >>coverage/reach.log 2>&1
    tr '|' '\n' <"$out" | grep -v '^$' | sort | uniq -c | sort -k2 | awk -v n="$(wc -l <"$out")" '{c=$1; $1=""; printf "%6d / %d %s\n", c, n, $0}'
}

mkdir -p coverage
for part in "${parts[@]}"; do
    case $part in
        producer | connection) coverage "$part" ;;
        reach) reach ;;
        *) echo "unknown part $part" >&2; exit 2 ;;
    esac
done
