#!/usr/bin/env python3
"""The benchmark input: N lines "key-(i mod 10007)<TAB>value" with values of
SIZE random letters (seeded, so every run and peer gets the same bytes).

  make_lines.py N SIZE PATH
"""
import random
import sys

n, size, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
r = random.Random(7)
with open(path, "w") as f:
    for i in range(n):
        f.write("key-%d\t%s\n" % (i % 10007, "".join(r.choices("abcdefghij", k=size))))
