#!/usr/bin/env bash
# Proof that the native tests bite: plants known bugs ("mutants") in the
# producer core one at a time, in a scratch copy of the repository, and
# reports for each whether the native tests caught it.
#
#   bash scripts/mutants.sh                  # every mutant
#   bash scripts/mutants.sh dup-seq-error    # only the mutants named
#   bash scripts/mutants.sh --list           # names and descriptions
#   bash scripts/mutants.sh --head ...       # test the last commit, not the working tree
#   bash scripts/mutants.sh --check          # only check that every mutation still applies
#
# Environment:
#   KPC_SIM_SCHEDULES   seeded fault schedules per simulation run (default 5000 here)
#   MUTANTS_TIMEOUT     seconds one test run may take; a hang counts as caught (default 900)
#   MUTANTS_SCRATCH     the scratch copy (default $KPC_CACHE/mutants/scratch)
#   MUTANTS_TARGET_DIR  its cargo target dir (default $KPC_CACHE/target-mutants)
#
# The working tree is never touched: its tracked and untracked (not
# ignored) files are copied to the scratch directory, a baseline run checks
# that the tests pass there unmutated, then each mutation is applied to its
# file, the native tests (`cargo test --profile host -p
# kafka-producer-component --no-fail-fast`: every test binary runs, so the
# report says whether the unit tests, the simulation and the TLS tests each
# catch the mutant) are built and run, and the file is restored. One scratch copy and one
# target dir serve every mutant and every run, so each mutant costs an
# incremental build of the crate and one test run.
#
# Each mutation is an exact text substitution that must match exactly once:
# if the code it targets moved or changed, the script says "mutation did
# not apply" (and exits non-zero) rather than testing nothing.
#
# Output: one line per mutant (caught, and by which test binary and test;
# or SURVIVED), logs under $KPC_CACHE/mutants/logs, then the final line
#   mutants: N caught, M survived of K planted
# Exit status: 0 if every mutant was planted and caught, 1 if any survived,
# 2 if the baseline failed or a mutant could not be planted or built.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh

# ---------------------------------------------------------------- mutants
# mutant NAME FILE DESCRIPTION OLD NEW: replace the one occurrence of the
# literal text OLD in FILE by NEW.
names=() files=() descs=() olds=() news=()
mutant() {
    names+=("$1") files+=("$2") descs+=("$3") olds+=("$4") news+=("$5")
}

mutant seq-not-advanced src/producer/transaction_manager.rs \
    "the partition's next sequence is not advanced after a batch is stamped" \
    's.next_sequence = s.next_sequence.wrapping_add(b.record_ids.len() as i32) & i32::MAX;' \
    '// mutant: next_sequence not advanced'

mutant crc-off-by-one src/batch.rs \
    "the batch CRC-32C covers one byte less than attributes..end" \
    'let crc = crc32c(&buf[ATTRIBUTES_AT..]);' \
    'let crc = crc32c(&buf[ATTRIBUTES_AT + 1..]);'

mutant retriable-fatal src/error_codes.rs \
    "is_retriable returns false for every error code" \
    'lookup(code).is_some_and(|e| e.2)' \
    'lookup(code).is_some_and(|_| false)'

mutant retry-at-back src/accumulator.rs \
    "a re-enqueued batch goes to the back of its partition's queue, behind younger batches" \
    'let at = self.batches.iter().position(|b| b.order_key > batch.order_key).unwrap_or(self.batches.len());' \
    'let at = self.batches.len();'

mutant no-to-positive src/partitioner.rs \
    "murmur2 partitioning without toPositive (the & 0x7fff_ffff mask)" \
    '((murmur2(key) & 0x7fff_ffff) as u32) % partitions' \
    '(murmur2(key) as u32) % partitions'

mutant dup-seq-error src/producer/transaction_manager.rs \
    "DUPLICATE_SEQUENCE_NUMBER (46) in a produce response is an error, not a delivery" \
    'code == NONE || (code == DUPLICATE_SEQUENCE_NUMBER && idempotent)' \
    'code == NONE'

mutant bump-while-unresolved src/producer/transaction_manager.rs \
    "the epoch bump no longer waits for batches of unknown outcome to be resolved" \
    'if self.bump_requested && batches_in_flight == 0 && !unresolved_elsewhere =>' \
    'if self.bump_requested && batches_in_flight == 0 && { let _ = unresolved_elsewhere; true } =>'

mutant linger-ignored src/accumulator.rs \
    "linger.ms ignored: a new batch is ready as soon as it is created" \
    'now >= b.created_ms.saturating_add(linger_ms)' \
    'now >= b.created_ms'

mutant varint-boundary src/wire.rs \
    "the varint writer emits a value of exactly 0x80 (in its last group) as one byte" \
    'pub fn uvarint(&mut self, mut v: u64) {
        while v >= 0x80 {' \
    'pub fn uvarint(&mut self, mut v: u64) {
        while v > 0x80 {'

mutant header-count src/batch.rs \
    "a record's header count is written one too low" \
    'w.varint(rec.headers.len() as i64);' \
    'w.varint(rec.headers.len().saturating_sub(1) as i64);'

mutant last-offset-delta src/batch.rs \
    "the batch's lastOffsetDelta is the record count, not count - 1" \
    'w.i32(count - 1); // lastOffsetDelta' \
    'w.i32(count); // lastOffsetDelta'

# ---------------------------------------------------------------- options
from_head=false check=false
selected=()
for a in "$@"; do
    case $a in
        --list)
            for i in "${!names[@]}"; do printf '%-22s %-20s %s\n' "${names[$i]}" "${files[$i]}" "${descs[$i]}"; done
            exit 0 ;;
        --head) from_head=true ;;
        --check) check=true ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
        -*) echo "unknown option $a" >&2; exit 2 ;;
        *)
            found=false
            for n in "${names[@]}"; do [[ $n == "$a" ]] && found=true; done
            $found || { echo "no mutant named $a (see --list)" >&2; exit 2; }
            selected+=("$a") ;;
    esac
done
chosen=()
for i in "${!names[@]}"; do
    if ((${#selected[@]} == 0)); then
        chosen+=("$i")
    else
        for s in "${selected[@]}"; do [[ $s == "${names[$i]}" ]] && chosen+=("$i"); done
    fi
done

# occurrences FILE OLD: how many times the literal text OLD occurs in FILE.
occurrences() {
    OLD=$2 perl -0777 -ne 'BEGIN { $o = $ENV{OLD} } $n += () = /\Q$o\E/g; END { print $n + 0 }' "$1"
}

if $check; then
    bad=0
    for i in "${chosen[@]}"; do
        n=$(occurrences "${files[$i]}" "${olds[$i]}")
        if [[ $n == 1 ]]; then echo "applies: ${names[$i]} (${files[$i]})"; else echo "DOES NOT APPLY: ${names[$i]} (${files[$i]}: $n occurrences)"; bad=1; fi
    done
    exit $((bad * 2))
fi

export KPC_SIM_SCHEDULES=${KPC_SIM_SCHEDULES:-5000}
timeout_s=${MUTANTS_TIMEOUT:-900}
work=$KPC_CACHE/mutants
scratch=${MUTANTS_SCRATCH:-$work/scratch}
export CARGO_TARGET_DIR=${MUTANTS_TARGET_DIR:-$KPC_CACHE/target-mutants}
logs=$work/logs
mkdir -p "$work" "$logs"

# The scratch directory is deleted and recreated: never the repository or
# anything that holds it.
case "$(pwd)/" in
    "${scratch%/}/"*) echo "MUTANTS_SCRATCH=$scratch holds the repository; refusing" >&2; exit 2 ;;
esac
[[ -n $scratch && ${scratch%/} != "$HOME" ]] || { echo "MUTANTS_SCRATCH=$scratch: refusing" >&2; exit 2; }

# One run at a time per scratch copy.
exec 9>"$scratch.lock"
flock -n 9 || { echo "another mutants.sh run holds $scratch.lock" >&2; exit 2; }

# ---------------------------------------------------------------- scratch copy
echo "mutants: copying $($from_head && echo "HEAD ($(git rev-parse --short HEAD))" || echo "the working tree") to $scratch"
rm -rf "$scratch"
mkdir -p "$scratch"
if $from_head; then
    git archive HEAD | tar -xf - -C "$scratch"
else
    git ls-files -z -co --exclude-standard |
        while IFS= read -r -d '' f; do [[ -f $f ]] && printf '%s\0' "$f"; done |
        tar --null -T - -cf - | tar -xf - -C "$scratch"
fi
# Fresh mtimes: cargo decides what to rebuild by mtime, and the last build
# in the target dir may be of a mutant from an earlier run.
find "$scratch" -type f -exec touch {} +

orig=$work/original
restore() {
    if [[ -n ${mutated:-} ]]; then
        cp "$orig" "$scratch/$mutated" # a fresh mtime: cargo rebuilds
        mutated=
    fi
}
trap restore EXIT

cargo_test() {
    (cd "$scratch" && nice -n 10 cargo test --profile host -p kafka-producer-component --color never "$@")
}

# build LOG: builds the tests; returns cargo's status.
build() {
    cargo_test --no-run >"$1" 2>&1
}

# run LOG: runs the tests under the time limit; returns their status
# (124 on a timeout).
run() {
    local rc=0
    (cd "$scratch" && timeout -k 10 "$timeout_s" nice -n 10 cargo test --profile host -p kafka-producer-component --color never --no-fail-fast) >>"$1" 2>&1 || rc=$?
    return $rc
}

# culprit LOG: each test binary that failed, its failed tests and the first
# line of its first failure's message, "; "-separated.
culprit() {
    awk '
        /^ *Running / { bin = ($2 == "unittests") ? "unittests " $3 : $2; next }
        /^ *Doc-tests / { bin = "doc-tests"; next }
        /^test .* \.\.\. FAILED$/ {
            t = $0; sub(/^test /, "", t); sub(/ \.\.\. FAILED$/, "", t)
            if (!(bin in failed)) order[++n] = bin
            failed[bin] = failed[bin] (failed[bin] == "" ? "" : ", ") t
            next
        }
        /panicked at/ { want = 1; next }
        want { if (!(bin in msg)) msg[bin] = $0; want = 0 }
        /^error: test failed, to rerun pass/ && !(bin in failed) { order[++n] = bin; failed[bin] = "(the binary failed without a FAILED test)" }
        END {
            if (n == 0) { printf "%s: (no failing test found in the log)", bin; exit }
            for (i = 1; i <= n; i++) {
                b = order[i]; m = msg[b]
                k = split(failed[b], parts, ", ")
                list = parts[1]
                for (j = 2; j <= k && j <= 3; j++) list = list ", " parts[j]
                if (k > 3) list = list ", and " (k - 3) " more"
                if (length(m) > 120) m = substr(m, 1, 117) "..."
                printf "%s%s (%s)%s", (i > 1 ? "; " : ""), b, list, (m != "" ? ": " m : "")
            }
        }' "$1"
}

now() { date +%s; }
t_all=$(now)

# ---------------------------------------------------------------- baseline
echo "mutants: baseline (unmutated), KPC_SIM_SCHEDULES=$KPC_SIM_SCHEDULES, target $CARGO_TARGET_DIR"
t0=$(now)
if ! build "$logs/baseline.log"; then
    echo "mutants: the unmutated copy does not build; see $logs/baseline.log" >&2
    $from_head || echo "mutants: (work in progress in the working tree? --head tests the last commit)" >&2
    exit 2
fi
t1=$(now)
if ! run "$logs/baseline.log"; then
    echo "mutants: the tests fail without any mutant ($(culprit "$logs/baseline.log")); see $logs/baseline.log" >&2
    $from_head || echo "mutants: (work in progress in the working tree? --head tests the last commit)" >&2
    exit 2
fi
echo "mutants: baseline passes (build $((t1 - t0)) s, tests $(($(now) - t1)) s)"

# ---------------------------------------------------------------- mutants
caught=0 survived=0 broken=0
summary=()
k=0
for i in "${chosen[@]}"; do
    k=$((k + 1))
    name=${names[$i]} file=${files[$i]}
    log=$logs/$name.log
    echo "mutants: [$k/${#chosen[@]}] $name ($file): ${descs[$i]}"
    t0=$(now)
    : >"$log"
    cp -p "$scratch/$file" "$orig"
    n=$(occurrences "$scratch/$file" "${olds[$i]}")
    if [[ $n != 1 ]]; then
        line="$name: mutation did not apply (its text occurs $n times in $file, not once)"
        broken=$((broken + 1))
    else
        mutated=$file
        OLD=${olds[$i]} NEW=${news[$i]} perl -0777 -i -pe 'BEGIN { $o = $ENV{OLD}; $r = $ENV{NEW} } s/\Q$o\E/$r/' "$scratch/$file"
        if cmp -s "$orig" "$scratch/$file"; then
            line="$name: mutation did not apply (the file is unchanged)"
            broken=$((broken + 1))
        else
            diff -u "$orig" "$scratch/$file" --label "a/$file" --label "b/$file" >"$log" || true
            if ! build "$log.build"; then
                cat "$log.build" >>"$log"
                line="$name: mutant did not build (see $log)"
                broken=$((broken + 1))
            else
                cat "$log.build" >>"$log"
                t1=$(now)
                rc=0
                run "$log" || rc=$?
                t2=$(now)
                times="build $((t1 - t0)) s, tests $((t2 - t1)) s"
                if ((rc == 0)); then
                    line="$name: SURVIVED ($times)"
                    survived=$((survived + 1))
                elif ((rc == 124 || rc == 137)); then
                    line="$name: caught (the tests hung past ${timeout_s} s: $(culprit "$log")) ($times)"
                    caught=$((caught + 1))
                else
                    line="$name: caught by $(culprit "$log") ($times)"
                    caught=$((caught + 1))
                fi
            fi
            rm -f "$log.build"
        fi
        restore
    fi
    echo "mutants:   $line"
    summary+=("$line")
done

echo
echo "mutants: summary (KPC_SIM_SCHEDULES=$KPC_SIM_SCHEDULES, $(($(now) - t_all)) s in all; logs in $logs)"
for l in "${summary[@]}"; do echo "  $l"; done
if ((broken > 0)); then
    echo "mutants: $broken could not be planted or built (a script that no longer matches the code)"
fi
echo "mutants: $caught caught, $survived survived of $((caught + survived)) planted"
if ((broken > 0)); then
    exit 2
elif ((survived > 0)); then
    exit 1
fi
