#!/bin/sh
# Uprobes, uretprobes and USDT probes under `bpfvm trace` (the ptrace
# supervisor: src/events/usym.c, ubp.c) on tests/data/uprobe/uworkload.c:
# calls counted per thread from 4 threads and a forked child, malloc in
# libc (a library named by its name, placed when it is loaded), a
# recursive function's returns in order, an instruction run out of line
# (RIP-relative), bpf_get_func_ip; USDT arguments through libbpf's
# usdt.bpf.h, a semaphore-guarded USDT probe; bad input named (a missing function, an
# offset inside an instruction, a stripped binary, a uretprobe with an
# offset) while the rest attach; bash's readline on a real pty
# (examples/bashreadline.bpf.c); a running process taken with -p and left
# running, unharmed, after the detach.  Then the same under the in-process
# agent (--mode agent: src/events/inproc.c, agent/uprobe.c): the same
# counts per thread, returns, mallocs per thread, USDT arguments and
# bashreadline lines as the supervisor's; its patched bytes put back when
# bpfvm trace is killed, in the command and in the child it forked, both
# running on; libm loaded late, unloaded and loaded again (also while a
# second thread runs) counted as the supervisor and the kernel count it.
BUILD=${BUILD:-build}
BPFVM=${BPFVM:-$BUILD/bpfvm}
CLANG=${CLANG:-clang-19}
status=0

if ! command -v "$CLANG" >/dev/null 2>&1 || [ ! -f /usr/include/bpf/bpf_helpers.h ] ||
   [ ! -f /usr/include/x86_64-linux-gnu/sys/sdt.h ] && [ ! -f /usr/include/sys/sdt.h ]; then
	echo "SKIP uprobe: $CLANG, libbpf's headers (libbpf-dev) or <sys/sdt.h> (systemtap-sdt-dev) missing"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
W=$tmp/uworkload
bpf() { "$CLANG" -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/"$(uname -m)"-linux-gnu \
	-DWORKLOAD="\"$W\"" -DSTRIPPED="\"$W.stripped\"" -DOFFSET="\"$off\"" -c "$1" -o "$2"; }
# upr_global's file offset (its value less its section's address plus the section's offset)
file_offset() {
	v=$(readelf -sW "$W" | awk -v f="$1" '$8 == f { print $2; exit }')
	set -- $(readelf -SW "$W" | awk '$2 == ".text" { print $4, $5 }')
	[ -n "$v" ] && [ -n "$2" ] && printf '0x%x\n' $((0x$v - 0x$1 + 0x$2))
}
if ! cc -O2 -pthread -o "$W" tests/data/uprobe/uworkload.c > "$tmp/build.log" 2>&1 ||
   ! off=$(file_offset upr_global) || [ -z "$off" ] ||
   ! bpf tests/data/uprobe/multi.bpf.c "$tmp/multi.bpf.o" >> "$tmp/build.log" 2>&1 ||
   ! strip -o "$W.stripped" "$W" >> "$tmp/build.log" 2>&1 ||
   ! bpf tests/data/uprobe/uprobe.bpf.c "$tmp/uprobe.bpf.o" >> "$tmp/build.log" 2>&1 ||
   ! bpf tests/data/uprobe/bad.bpf.c "$tmp/bad.bpf.o" >> "$tmp/build.log" 2>&1 ||
   ! bpf tests/data/uprobe/usdt.bpf.c "$tmp/usdt.bpf.o" >> "$tmp/build.log" 2>&1 ||
   ! bpf tests/data/uprobe/leap.bpf.c "$tmp/leap.bpf.o" >> "$tmp/build.log" 2>&1 ||
   ! bpf tests/data/uprobe/late_bad.bpf.c "$tmp/late_bad.bpf.o" >> "$tmp/build.log" 2>&1 ||
   ! bpf examples/bashreadline.bpf.c "$tmp/bashreadline.bpf.o" >> "$tmp/build.log" 2>&1; then
	echo "FAIL uprobe: the test objects do not build:"
	head -n 5 "$tmp/build.log" | sed 's/^/     ... /'
	exit 1
fi

pass() { echo "PASS uprobe_$1"; }
fail() { echo "FAIL uprobe_$1: $2"; status=1; }
# the decimal values of map $2 in --dump-maps output $1, one a line
values() { sed -n "/^map $2 /,/by BTF/p" "$1" | sed -n 's/.*value [0-9a-f]* (\([0-9-]*\))$/\1/p'; }
value_of() { sed -n "/^map $2 /,/by BTF/p" "$1" | sed -n "s/.*key [0-9a-f]* ($3)  value [0-9a-f]* (\([0-9-]*\))$/\1/p"; }

timeout 60 "$BPFVM" trace --dump-maps "$tmp/uprobe.bpf.o" -- "$W" > "$tmp/u.out" 2> "$tmp/u.err"
rc=$?
calls=$(values "$tmp/u.out" calls | sort -n | tr '\n' ' ')
sum=$(value_of "$tmp/u.out" info 0)
ipdiff=$(value_of "$tmp/u.out" info 1)
if [ $rc -eq 0 ] && [ "$calls" = "1 1000 1000 1000 1000 " ] && [ "$sum" = 10100 ] && [ -z "$ipdiff" ] &&
   grep -q "calls 1000 per thread, fact 120, global 42" "$tmp/u.out"; then
	pass threads_and_fork
else
	fail threads_and_fork "rc $rc, calls per thread '$calls' (want 1 1000 1000 1000 1000: four threads and the forked child), sum of arguments '$sum' (10100), func_ip - ip '$ipdiff' (0, not shown)"
	head -n 3 "$tmp/u.err" | sed 's/^/     ... /'
fi

# malloc in libc.so.6, named as libbpf names it: each worker thread makes 500 (libc may add a few)
workers=$(values "$tmp/u.out" mallocs | awk '$1 >= 500 && $1 <= 510' | wc -l)
if [ "$workers" = 4 ]; then
	pass libc_malloc_per_thread
else
	fail libc_malloc_per_thread "$workers threads with 500-510 mallocs (want 4): $(values "$tmp/u.out" mallocs | tr '\n' ' ')"
fi

facts=$(for k in 0 1 2 3 4 7; do value_of "$tmp/u.out" facts $k; done | tr '\n' ' ')
if [ "$facts" = "1 2 6 24 120 5 " ]; then
	pass uretprobe_recursion
else
	fail uretprobe_recursion "returns of upr_fact(5) '$facts' (want 1 2 6 24 120, then the count 5)"
fi

if [ "$(value_of "$tmp/u.out" info 6)" = 3 ]; then
	pass library_from_dlopen_dlclose_dlopen
else
	fail library_from_dlopen_dlclose_dlopen "cbrt in libm.so.6, loaded by dlopen after start, unloaded by dlclose and loaded again: '$(value_of "$tmp/u.out" info 6)' hits (3: 1 before the dlclose, 2 after)"
fi

timeout 60 "$BPFVM" trace --dump-maps "$tmp/multi.bpf.o" -- "$W" > "$tmp/m.out" 2> "$tmp/m.err"
if [ "$(value_of "$tmp/m.out" hits 0)" = 6 ] && [ "$(value_of "$tmp/m.out" hits 1)" = 1 ]; then
	pass multi_glob_and_raw_offset
else
	fail multi_glob_and_raw_offset "uprobe.multi on upr_[gf]*: '$(value_of "$tmp/m.out" hits 0)' hits (6: fact 5, global 1); at file offset $off (upr_global): '$(value_of "$tmp/m.out" hits 1)' (1)"
	head -n 3 "$tmp/m.err" | sed 's/^/     ... /'
fi

entry_ip=$(value_of "$tmp/u.out" info 2)
ret_ip=$(value_of "$tmp/u.out" info 4)
if [ "$(value_of "$tmp/u.out" info 3)" = 42 ] && [ -n "$entry_ip" ] && [ "$entry_ip" = "$ret_ip" ]; then
	pass out_of_line_and_func_ip
else
	fail out_of_line_and_func_ip "upr_global (mov RIP-relative, ret) returned '$(value_of "$tmp/u.out" info 3)' (42); func_ip at entry '$entry_ip', at return '$ret_ip' (equal)"
fi

# USDT: libbpf's usdt.bpf.h reads the arguments from the specs bpfvm wrote (a register's low
# 32 bits sign-extended, a long, a pointer), and upr:guarded fires because bpfvm raised its semaphore
timeout 60 "$BPFVM" trace --dump-maps "$tmp/usdt.bpf.o" -- "$W" > "$tmp/usdt.out" 2> "$tmp/usdt.err"
rc=$?
got=$(for k in 0 1 2 3 4 5 6 7 8 9; do value_of "$tmp/usdt.out" out $k; done | tr '\n' ' ')
if [ $rc -eq 0 ] && [ "$got" = "7 8 9 18446744073709551615 999 1999 42 3 99 3 " ]; then
	pass usdt_args_and_semaphore
else
	fail usdt_args_and_semaphore "rc $rc, out[0..9] '$got' (want 7 8 9, -1 999 1999, 42, 3 args, 99 from the guarded probe, 3 hits)"
	head -n 3 "$tmp/usdt.err" | sed 's/^/     ... /'
fi

# bad input: each named with what and where; the good probe still counts once
timeout 60 "$BPFVM" trace --dump-maps "$tmp/bad.bpf.o" -- "$W" > "$tmp/bad.out" 2> "$tmp/bad.err"
rc=$?
if [ $rc -eq 0 ] && [ "$(value_of "$tmp/bad.out" hits 0)" = 1 ] &&
   grep -q "missing .*function 'no_such_function' not found in $W (.dynsym, .symtab)" "$tmp/bad.err" &&
   grep -q "inside .*offset +0x1 of upr_target in $W is not at an instruction boundary" "$tmp/bad.err" &&
   grep -q "stripped .*function 'upr_target' not found in $W.stripped (.dynsym, .symtab: it is stripped, and no debug file of it was found by build id or .gnu_debuglink)" "$tmp/bad.err" &&
   grep -q "ret_offset .*uretprobes do not support offset specification" "$tmp/bad.err"; then
	pass bad_input_named
else
	fail bad_input_named "rc $rc, hits '$(value_of "$tmp/bad.out" hits 0)' (1):"
	sed 's/^/     ... /' "$tmp/bad.err" | head -n 6
fi

# a stripped binary with a separate debug file (objcopy --only-keep-debug, as -dbgsym packages
# ship them) found through its .gnu_debuglink in .debug/ beside it: upr_target attaches there and
# counts every call (4 threads x 1000, the child's 1), and upr_global once; a debug file whose
# CRC is not the link's is not taken: neither function is found, and bpfvm says so
D=$tmp/dbg/uworkload
mkdir -p "$tmp/dbg/.debug"
if objcopy --only-keep-debug "$W" "$tmp/dbg/.debug/uworkload.debug" &&
   objcopy --strip-all --add-gnu-debuglink="$tmp/dbg/.debug/uworkload.debug" "$W" "$D" &&
   "$CLANG" -O2 -g -target bpf -I/usr/include/"$(uname -m)"-linux-gnu -DWORKLOAD="\"$D\"" \
	-DSTRIPPED="\"$D\"" -c tests/data/uprobe/bad.bpf.c -o "$tmp/dbg.bpf.o" > "$tmp/build.log" 2>&1; then
	timeout 60 "$BPFVM" trace --dump-maps --prog stripped --prog good "$tmp/dbg.bpf.o" -- "$D" \
		> "$tmp/dbg.out" 2> "$tmp/dbg.err"
	rc=$?
	echo x >> "$tmp/dbg/.debug/uworkload.debug"
	timeout 60 "$BPFVM" trace --dump-maps --prog stripped --prog good "$tmp/dbg.bpf.o" -- "$D" \
		> "$tmp/dbg2.out" 2> "$tmp/dbg2.err"
	if [ $rc -eq 0 ] && [ "$(value_of "$tmp/dbg.out" hits 0)" = 4002 ] && ! grep -q stripped "$tmp/dbg.err" &&
	   grep -q "stripped .*function 'upr_target' not found in $D (.dynsym, .symtab: it is stripped, and no debug file" "$tmp/dbg2.err" &&
	   grep -q "no program could be attached" "$tmp/dbg2.err"; then
		pass stripped_binary_debug_file
	else
		fail stripped_binary_debug_file "rc $rc, hits '$(value_of "$tmp/dbg.out" hits 0)' (4002); with a bad CRC:"
		cat "$tmp/dbg.err" "$tmp/dbg2.err" | sed 's/^/     ... /' | head -n 6
	fi
else
	fail stripped_binary_debug_file "objcopy or clang failed: $(head -n 2 "$tmp/build.log")"
fi

# bashreadline: an interactive bash on a pty, three lines typed; bpfvm's records on stdout
# drive_bash MODE OUT: bashreadline's records in OUT (three lines typed into a real bash on a
# pty, tests/data/pty_type.py), the driver's account ("rc N") on stdout
drive_bash() {
	timeout 60 python3 tests/data/pty_type.py -o "$2" 'echo first line' 'true second' exit \
		-- "$BPFVM" trace --mode "$1" --json "$tmp/bashreadline.bpf.o" -- /bin/bash --norc --noprofile -i
}
drive_bash supervisor "$tmp/br.json" > "$tmp/br.log" 2>&1
lines=$(grep -c '"type":"ringbuf"' "$tmp/br.json" 2>/dev/null)
if grep -q '^rc 0$' "$tmp/br.log" && [ "$lines" = 3 ] &&
   grep -q '"str":"echo first line"' "$tmp/br.json" && grep -q '"str":"true second"' "$tmp/br.json" &&
   grep -q '"str":"exit"' "$tmp/br.json"; then
	pass bashreadline_pty
else
	fail bashreadline_pty "$lines records (want 3: 'echo first line', 'true second', 'exit'); driver: $(tr '\n' ' ' < "$tmp/br.log" | cut -c1-200)"
	grep ringbuf "$tmp/br.json" | head -n 3 | cut -c1-150 | sed 's/^/     ... /'
fi

# -p: a running process probed (uprobe and recursive uretprobes in flight), then SIGINT:
# every byte and return address restored, the process runs on to its own exit 0
"$W" loop 3000 > /dev/null &
wpid=$!
sleep 0.3
"$BPFVM" trace --dump-maps -p "$wpid" "$tmp/uprobe.bpf.o" > "$tmp/p.out" 2> "$tmp/p.err" &
bpid=$!
sleep 1
kill -INT "$bpid"
for i in $(seq 1 100); do kill -0 "$bpid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$bpid" 2>/dev/null && kill -9 "$bpid"
wait "$bpid"
brc=$?
wait "$wpid"
wrc=$?
seen=$(values "$tmp/p.out" calls | head -n 1)
if [ "$wrc" = 0 ] && [ "$brc" = 0 ] && [ "${seen:-0}" -gt 0 ]; then
	pass seize_detach_restores
else
	fail seize_detach_restores "workload exit $wrc (0), bpfvm exit $brc (0), calls seen '${seen:-}' (some)"
	head -n 3 "$tmp/p.err" | sed 's/^/     ... /'
fi

# --mode agent: the same workload in process, the same counts as the supervisor's above
timeout 60 "$BPFVM" trace --mode agent --dump-maps "$tmp/uprobe.bpf.o" -- "$W" > "$tmp/ua.out" 2> "$tmp/ua.err"
rc=$?
a_calls=$(values "$tmp/ua.out" calls | sort -n | tr '\n' ' ')
a_facts=$(for k in 0 1 2 3 4 7; do value_of "$tmp/ua.out" facts $k; done | tr '\n' ' ')
a_mallocs=$(values "$tmp/ua.out" mallocs | sort -n | tr '\n' ' ')
s_mallocs=$(values "$tmp/u.out" mallocs | sort -n | tr '\n' ' ')
a_entry=$(value_of "$tmp/ua.out" info 2)
if [ $rc -eq 0 ] && [ "$a_calls" = "$calls" ] && [ "$(value_of "$tmp/ua.out" info 0)" = "$sum" ] &&
   [ "$a_facts" = "$facts" ] &&
   [ "$(value_of "$tmp/ua.out" info 3)" = 42 ] && [ -n "$a_entry" ] &&
   [ "$a_entry" = "$(value_of "$tmp/ua.out" info 4)" ] &&
   [ "$(value_of "$tmp/ua.out" info 5)" = 1 ] && [ "$(value_of "$tmp/u.out" info 5)" = 1 ] &&
   grep -q "calls 1000 per thread, fact 120, global 42" "$tmp/ua.out"; then
	pass agent_same_as_supervisor
else
	fail agent_same_as_supervisor "rc $rc; agent/supervisor: calls per thread '$a_calls'/'$calls', sum '$(value_of "$tmp/ua.out" info 0)'/'$sum', returns '$a_facts'/'$facts', upr_global '$(value_of "$tmp/ua.out" info 3)' (42), func_ip at entry and return '$a_entry' '$(value_of "$tmp/ua.out" info 4)', the forked child's hits as its own process '$(value_of "$tmp/ua.out" info 5)'/'$(value_of "$tmp/u.out" info 5)' (1)"
	head -n 3 "$tmp/ua.err" | sed 's/^/     ... /'
fi
if [ -n "${SANITIZED:-}" ]; then
	echo "SKIP uprobe_agent_malloc_per_thread: the sanitized agent brings ASan into the command, whose malloc replaces libc's there"
elif [ -n "$s_mallocs" ] && [ "$a_mallocs" = "$s_mallocs" ]; then
	pass agent_malloc_per_thread
else
	fail agent_malloc_per_thread "mallocs per thread in libc '$a_mallocs' (the supervisor's: '$s_mallocs')"
fi

# the glob (jmps) and the raw file offset (an int3: no function size), and bad input in process
timeout 60 "$BPFVM" trace --mode agent --dump-maps "$tmp/multi.bpf.o" -- "$W" > "$tmp/ma.out" 2> "$tmp/ma.err"
timeout 60 "$BPFVM" trace --mode agent --dump-maps "$tmp/bad.bpf.o" -- "$W" > "$tmp/bada.out" 2> "$tmp/bada.err"
if [ "$(value_of "$tmp/ma.out" hits 0)" = 6 ] && [ "$(value_of "$tmp/ma.out" hits 1)" = 1 ] &&
   [ "$(value_of "$tmp/bada.out" hits 0)" = 1 ] &&
   grep -q "^bpfvm agent: inside .*offset +0x1 of upr_target in $W is not at an instruction boundary" "$tmp/bada.err"; then
	pass agent_multi_offset_bad_input
else
	fail agent_multi_offset_bad_input "glob '$(value_of "$tmp/ma.out" hits 0)' (6), raw offset '$(value_of "$tmp/ma.out" hits 1)' (1), bad.bpf.o's good probe '$(value_of "$tmp/bada.out" hits 0)' (1), the offset inside an instruction named by the agent:"
	sed 's/^/     ... /' "$tmp/bada.err" | head -n 5
fi

# longjmp past uretprobe'd frames (three times four that never return): the one real return
# is seen, in both modes, and the workload goes on to its end
for mode in supervisor agent; do
	timeout 60 "$BPFVM" trace --mode $mode --dump-maps "$tmp/leap.bpf.o" -- "$W" leap \
		> "$tmp/leap.$mode.out" 2> "$tmp/leap.$mode.err"
	echo "$mode $? $(value_of "$tmp/leap.$mode.out" out 0) $(value_of "$tmp/leap.$mode.out" out 1) $(grep -c '^leap 7$' "$tmp/leap.$mode.out")"
done > "$tmp/leap.res"
if [ "$(tr '\n' ' ' < "$tmp/leap.res")" = "supervisor 0 1 7 1 agent 0 1 7 1 " ]; then
	pass longjmp_past_uretprobes
else
	fail longjmp_past_uretprobes "mode, exit, returns, last value, the workload's line: $(tr '\n' ' ' < "$tmp/leap.res") (want 0 1 7 1 in both)"
fi

# auto: a dynamically linked command, so the agent (said on stderr)
timeout 60 "$BPFVM" trace --mode auto --dump-maps "$tmp/usdt.bpf.o" -- "$W" > "$tmp/usdta.out" 2> "$tmp/usdta.err"
rc=$?
a_got=$(for k in 0 1 2 3 4 5 6 7 8 9; do value_of "$tmp/usdta.out" out $k; done | tr '\n' ' ')
if [ $rc -eq 0 ] && [ "$a_got" = "$got" ] && grep -q "^bpfvm trace: mode agent$" "$tmp/usdta.err"; then
	pass agent_usdt_same_as_supervisor
else
	fail agent_usdt_same_as_supervisor "rc $rc, out[0..9] '$a_got' (the supervisor's: '$got'); auto's choice: $(grep mode "$tmp/usdta.err")"
	head -n 3 "$tmp/usdta.err" | sed 's/^/     ... /'
fi

drive_bash agent "$tmp/bra.json" > "$tmp/bra.log" 2>&1
a_lines=$(grep -o '"str":"[^"]*"' "$tmp/bra.json" | tr '\n' ' ')
s_lines=$(grep -o '"str":"[^"]*"' "$tmp/br.json" | tr '\n' ' ')
if grep -q '^rc 0$' "$tmp/bra.log" && [ -n "$s_lines" ] && [ "$a_lines" = "$s_lines" ]; then
	pass agent_bashreadline_pty
else
	fail agent_bashreadline_pty "lines '$a_lines' (the supervisor's: '$s_lines'); driver: $(tr '\n' ' ' < "$tmp/bra.log" | cut -c1-200)"
fi

# bpfvm trace killed (SIGKILL: nothing of it runs): the agent puts back upr_target's bytes
# (a jmp while traced) in the command and in the child it forked (its own copy of them), and
# both run on to their own end; one python watches it all
"$BPFVM" trace --mode agent --dump-maps "$tmp/uprobe.bpf.o" -- "$W" forkloop 3000 > "$tmp/da.out" 2> "$tmp/da.err" &
bpid=$!
timeout 30 python3 - "$bpid" "$(readelf -sW "$W" | awk '$8 == "upr_target" { print $2; exit }')" > "$tmp/da.log" 2>&1 <<'PYEOF'
import os, signal, sys, time
bpid, off = int(sys.argv[1]), int(sys.argv[2], 16)
def kids(pid):
    out = []
    for t in os.listdir("/proc/%d/task" % pid):
        out += [int(c) for c in open("/proc/%d/task/%s/children" % (pid, t)).read().split()]
    return out
def entry_byte(pid):
    try:
        for l in open("/proc/%d/maps" % pid):
            f = l.split()
            if len(f) >= 6 and f[5].endswith("/uworkload") and int(f[2], 16) == 0:
                m = open("/proc/%d/mem" % pid, "rb")
                m.seek(int(f[0].split("-")[0], 16) + off)
                return m.read(1).hex()
    except OSError:
        return None
def alive(pid):
    try:
        return open("/proc/%d/stat" % pid).read().split()[2] not in "ZX"
    except OSError:
        return False
procs, before = [], []
for _ in range(100):
    try:
        procs = kids(bpid)[:1]
        procs += kids(procs[0])[:1] if procs else []
        before = [entry_byte(p) for p in procs]
    except OSError:
        pass
    if before == ["e9", "e9"]:
        break
    time.sleep(0.05)
os.kill(bpid, signal.SIGKILL)
after = []
for _ in range(100):
    after = [entry_byte(p) for p in procs]
    if "e9" not in after:
        break
    time.sleep(0.05)
running = [alive(p) for p in procs]
for _ in range(200):
    if not any(alive(p) for p in procs):
        break
    time.sleep(0.05)
for who, k in ("command", 0), ("child", 1):
    print(who, "before", before[k] if k < len(before) else None, "after",
          after[k] if k < len(after) else None, "running", running[k] if k < len(running) else None,
          "ended", not any(alive(p) for p in procs))
PYEOF
wait "$bpid" 2>/dev/null
done_lines=$(grep -c "loop done" "$tmp/da.out")
if grep -q "^command before e9 after 48 running True ended True$" "$tmp/da.log" && [ "$done_lines" -ge 1 ]; then
	pass agent_detach_restores
else
	fail agent_detach_restores "upr_target's first byte while traced, after bpfvm trace was killed, the workload running then and ended by itself (want e9, 48, True, True): $(tr '\n' ' ' < "$tmp/da.log" | cut -c1-300); its end lines: $done_lines"
fi
# the child forked before the detach: its own copy of the patches put back too (kept, before,
# they ran its programs on after the detach, with no bpfvm trace to read them)
if grep -q "^child before e9 after 48 running True ended True$" "$tmp/da.log" && [ "$done_lines" = 2 ]; then
	pass agent_detach_restores_forked_child
else
	fail agent_detach_restores_forked_child "in the forked child, upr_target's first byte while traced, after the kill, running then, ended (want e9, 48, True, True): $(grep '^child' "$tmp/da.log" | cut -c1-200); end lines of both: $done_lines (2)"
fi

# a library loaded after start (dlopen), unloaded (dlclose: the agent forgets its sites without
# writing there) and loaded again: cbrt counts 3 in process as under the supervisor and the
# kernel (tests/kernel/test_kernel_uprobe.c), with one thread (jmps) and while another thread
# waits (int3s)
timeout 60 "$BPFVM" trace --dump-maps "$tmp/uprobe.bpf.o" -- "$W" late > "$tmp/late.out" 2> "$tmp/late.err"
timeout 60 "$BPFVM" trace --mode agent --dump-maps "$tmp/uprobe.bpf.o" -- "$W" late > "$tmp/latea.out" 2> "$tmp/latea.err"
late="$(value_of "$tmp/ua.out" info 6) $(value_of "$tmp/late.out" info 6) $(value_of "$tmp/latea.out" info 6)"
if [ "$late" = "3 3 3" ] && grep -q "^late 0$" "$tmp/latea.out"; then
	pass agent_library_from_dlopen_dlclose_dlopen
else
	fail agent_library_from_dlopen_dlclose_dlopen "cbrt hits in process with one thread, under the supervisor and in process with two: '$late' (want 3 3 3, as the kernel's)"
	head -n 3 "$tmp/latea.err" | sed 's/^/     ... /'
fi
# a probe on a function the late library lacks: named in one line when the library comes, in
# process as under the supervisor, while the other probe there counts its 3 calls
for mode in supervisor agent; do
	timeout 60 "$BPFVM" trace --mode $mode "$tmp/late_bad.bpf.o" -- "$W" late > "$tmp/lb.$mode.out" 2>&1
	echo "$mode $? $(grep -c 'bpf_trace_printk: cbrt$' "$tmp/lb.$mode.out") $(grep -c "^bpfvm [a-z]*: missing_late (SEC(\"uprobe/libm.so.6:no_such_function\")): cannot attach: function 'no_such_function' not found in " "$tmp/lb.$mode.out")"
done > "$tmp/lb.res"
if [ "$(tr '\n' ' ' < "$tmp/lb.res")" = "supervisor 0 3 1 agent 0 3 1 " ]; then
	pass agent_late_library_refusal_named
else
	fail agent_late_library_refusal_named "mode, exit, cbrt's lines, the refusal's lines: $(tr '\n' ' ' < "$tmp/lb.res") (want 0 3 1 in both)"
	grep -v bpf_trace_printk "$tmp/lb.agent.out" | head -n 3 | sed 's/^/     ... /'
fi
exit $status
