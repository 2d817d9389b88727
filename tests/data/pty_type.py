#!/usr/bin/env python3
"""pty_type.py [-o FILE] LINE... -- PROGRAM [ARGS...]: run PROGRAM on a new
pty (its stdin and stderr; stdout too, or FILE with -o), type each LINE
into it once it waits for input (it printed, then went quiet), and wait
for it (bounded).  Prints "rc N", N its exit status (-9: killed after
the bound).  An interactive bash reads these lines through readline, as
from a user at a terminal (bashreadline's uprobe)."""
import os
import pty
import select
import subprocess
import sys
import time

args = sys.argv[1:]
out = None
if args[:1] == ["-o"]:
    out, args = args[1], args[2:]
if "--" not in args:
    sys.exit("usage: pty_type.py [-o FILE] LINE... -- PROGRAM [ARGS...]")
lines, argv = args[:args.index("--")], args[args.index("--") + 1:]
master, slave = pty.openpty()
stdout = open(out, "w") if out else slave
p = subprocess.Popen(argv, stdin=slave, stdout=stdout, stderr=slave, start_new_session=True)
os.close(slave)


def settle(most):
    """Read what PROGRAM prints until it has printed something and then
    nothing for 0.2 s (its prompt: it waits for input), at most most s."""
    end, seen = time.time() + most, False
    while time.time() < end:
        r, _, _ = select.select([master], [], [], 0.2)
        if not r:
            if seen:
                return
            continue
        try:
            seen = bool(os.read(master, 4096)) or seen
        except OSError:
            return


settle(3.0)
for line in lines:
    os.write(master, line.encode() + b"\n")
    settle(1.0)
try:
    p.wait(timeout=20)
except subprocess.TimeoutExpired:
    p.kill()
    p.wait()
print("rc", p.returncode)
