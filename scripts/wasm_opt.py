#!/usr/bin/env python3
"""Runs Binaryen's wasm-opt over the core module inside a component, in
place (wasm-opt reads core modules only; this one is the engine's code).

    python3 scripts/wasm_opt.py COMPONENT.wasm [wasm-opt flags...]

The component's other sections (its types, the small shim modules,
instances, exports) are copied unchanged: wasm-opt keeps the module's
imports and exports, which is all they refer to. A stamp next to the file
(size and mtime of the optimised file) makes a second run a no-op until
cargo writes a new component.
"""
import os, subprocess, sys, tempfile


def leb(data, i):
    value = shift = 0
    while True:
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, i


def uleb(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | 0x80 if n else b)
        if not n:
            return bytes(out)


def main():
    path, flags = sys.argv[1], sys.argv[2:]
    stamp = path + ".wasm-opt"
    st = os.stat(path)
    mark = f"{st.st_size} {st.st_mtime_ns} {' '.join(flags)}\n"
    if os.path.exists(stamp) and open(stamp).read() == mark:
        return
    data = open(path, "rb").read()
    if data[4:8] != b"\x0d\x00\x01\x00":
        sys.exit(f"{path}: not a component")
    out = bytearray(data[:8])
    i, done = 8, 0
    while i < len(data):
        sid = data[i]
        n, j = leb(data, i + 1)
        body = data[j : j + n]
        i = j + n
        # Section 1 is a core module; the engine's is the one large one.
        if sid == 1 and n > 65536:
            with tempfile.TemporaryDirectory() as tmp:
                a, b = os.path.join(tmp, "in.wasm"), os.path.join(tmp, "out.wasm")
                open(a, "wb").write(body)
                subprocess.run(["wasm-opt", *flags, a, "-o", b], check=True)
                body = open(b, "rb").read()
            done += 1
        out += bytes([sid]) + uleb(len(body)) + body
    if done != 1:
        sys.exit(f"{path}: expected one large core module, found {done}")
    # A new file, not a write through cargo's hard link into deps/.
    tmp = path + ".tmp"
    open(tmp, "wb").write(out)
    os.replace(tmp, path)
    st = os.stat(path)
    open(stamp, "w").write(f"{st.st_size} {st.st_mtime_ns} {' '.join(flags)}\n")


if __name__ == "__main__":
    main()
