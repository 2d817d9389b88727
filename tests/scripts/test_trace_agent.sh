#!/bin/sh
# `bpfvm trace --mode agent|auto|supervisor`: the in-process agent
# (libbpfvm-agent.so) against the ptrace supervisor on the same object and
# workload (tests/data/trace/agent.bpf.c, agent_work.c: getppid in the main
# thread, a thread, a forked child and after an exec; a clock_nanosleep
# that a signal interrupts while its handler calls getppid): the same
# records (pids and thread ids mapped by first appearance) and the same
# per-process counts; opensnoop's opens on the open workload agree; an exec
# the agent cannot follow (a static or set-user-ID program, any exec when
# ld.so's calls are attached; a Go program) is handed over to the
# supervisor, with the same records as the supervisor's alone; what the agent cannot serve is
# refused with a reason (a static command, -p) and auto says which mode it used.
# Every run is bounded (timeout 60).
BUILD=${BUILD:-build}
BPFVM=${BPFVM:-$BUILD/bpfvm}
CLANG=${CLANG:-clang-19}
status=0

if ! command -v "$CLANG" >/dev/null 2>&1 || [ ! -f /usr/include/bpf/bpf_helpers.h ]; then
	echo "SKIP trace_agent: $CLANG or libbpf's headers (libbpf-dev) are missing"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! "$CLANG" -O2 -g -target bpf -I/usr/include/"$(uname -m)"-linux-gnu \
	-c tests/data/trace/agent.bpf.c -o "$tmp/agent.bpf.o" > "$tmp/build.log" 2>&1 ||
   ! "$CLANG" -O2 -g -target bpf -I/usr/include/"$(uname -m)"-linux-gnu \
	-c tests/data/trace/agent_perf.bpf.c -o "$tmp/agent_perf.bpf.o" >> "$tmp/build.log" 2>&1 ||
   ! "$CLANG" -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/"$(uname -m)"-linux-gnu \
	-c examples/opensnoop.bpf.c -o "$tmp/opensnoop.bpf.o" >> "$tmp/build.log" 2>&1 ||
   ! "$CLANG" -O2 -g -target bpf -I/usr/include/"$(uname -m)"-linux-gnu \
	-c tests/data/trace/handover.bpf.c -o "$tmp/handover.bpf.o" >> "$tmp/build.log" 2>&1 ||
   ! cc -O2 -pthread -o "$tmp/agent_work" tests/data/trace/agent_work.c >> "$tmp/build.log" 2>&1 ||
   ! cc -O2 -pthread -o "$tmp/agent_fast" tests/data/trace/agent_fast.c >> "$tmp/build.log" 2>&1 ||
   ! cc -O2 -o "$tmp/agent_regs" tests/data/trace/agent_regs.c >> "$tmp/build.log" 2>&1 ||
   ! cc -O2 -pthread -o "$tmp/workload" tests/data/trace/workload.c >> "$tmp/build.log" 2>&1; then
	echo "FAIL trace_agent: the test objects do not build:"
	head -n 5 "$tmp/build.log" | sed 's/^/     ... /'
	exit 1
fi

pass() { echo "PASS trace_agent_$1"; }
fail() { echo "FAIL trace_agent_$1: $2"; status=1; }

# Ring buffer records of agent.bpf.c, one a line: pid and tid as P<n>/T<n> in order of first
# appearance, nr, ret (the kernel's -ERESTART* codes of an interrupted call as the -EINTR its
# caller sees: the agent sees the call from user space), comm; sorted (a signal's handler
# runs before the interrupted call's exit under the agent, after it in the kernel).
normalize() {
	grep '"type":"ringbuf"' "$1" | sed 's/.*"data":"\([0-9a-f]*\)".*/\1/' | awk '
	function le(s, off, n,   v, i) { v = 0; for (i = n - 1; i >= 0; i--) v = v * 256 + hexb(substr(s, off + 2 * i, 2)); return v }
	function hexb(h) { return index("0123456789abcdef", substr(h, 1, 1)) * 16 + index("0123456789abcdef", substr(h, 2, 1)) - 17 }
	function id(x) { if (!(x in ids)) ids[x] = n++; return ids[x] }
	{
		pid = le($0, 1, 4); tid = le($0, 9, 4); nr = le($0, 17, 4); ret = le($0, 33, 4)
		if (ret >= 2147483648) ret -= 4294967296
		if (ret == -512 || ret == -513 || ret == -514 || ret == -516) ret = -4
		printf "P%d T%d nr %d ret %s comm %s\n", id(pid), id(tid), nr, (nr == 110 ? "ppid" : ret), substr($0, 49, 32)
	}' | sort
}
# counts: the values per process, in the order of the pids' first appearance in the records
counts() {
	grep '"name":"counts"' "$1" | grep -o '"value":"[0-9a-f]*"' | sort | tr '\n' ' '
}

timeout 60 "$BPFVM" trace --json --dump-maps --mode supervisor "$tmp/agent.bpf.o" -- "$tmp/agent_work" > "$tmp/sup.json" 2> "$tmp/sup.err"
rs=$?
timeout 60 "$BPFVM" trace --json --dump-maps --mode auto "$tmp/agent.bpf.o" -- "$tmp/agent_work" > "$tmp/agent.json" 2> "$tmp/agent.err"
ra=$?
normalize "$tmp/sup.json" > "$tmp/sup.rec"
normalize "$tmp/agent.json" > "$tmp/agent.rec"
# bpf_printk's lines as trace_pipe's (comm, text; the agent sends them to bpfvm trace), and the
# processes' ends ({"type":"exit"}: the command and its forked child, which exits 3)
printks() { grep '"type":"printk"' "$1" | sed 's/.*"text":" *\([^ ]*\)-[0-9]* .*bpf_trace_printk: \(.*\)"}/\1 \2/'; }
exits() { grep '"type":"exit"' "$1" | sed 's/.*"status":\([0-9]*\)}/\1/' | sort | tr '\n' ' '; }
if [ "$(printks "$tmp/sup.json")" != "agent_work clock_nanosleep returns" ] ||
   [ "$(printks "$tmp/agent.json")" != "$(printks "$tmp/sup.json")" ]; then
	fail printk "supervisor '$(printks "$tmp/sup.json")', agent '$(printks "$tmp/agent.json")'"
else
	pass printk
fi
# the ends of processes bpfvm trace did not start need PIDFD_INFO_EXIT (Linux 6.15)
kv=$(uname -r | awk -F. '{ print $1 * 1000 + $2 }')
if [ "$kv" -lt 6015 ]; then
	echo "SKIP trace_agent_exits: Linux $(uname -r) has no PIDFD_INFO_EXIT (6.15): the agent reports no descendant's end"
elif [ "$(exits "$tmp/sup.json")" != "0 3 " ] || [ "$(exits "$tmp/agent.json")" != "$(exits "$tmp/sup.json")" ]; then
	fail exits "supervisor '$(exits "$tmp/sup.json")', agent '$(exits "$tmp/agent.json")'"
else
	pass exits
fi
if [ $rs -eq 0 ] && [ $ra -eq 0 ] && grep -q "mode agent" "$tmp/agent.err" &&
   [ "$(wc -l < "$tmp/agent.rec")" -eq 7 ] && cmp -s "$tmp/sup.rec" "$tmp/agent.rec" &&
   grep -q "nr 230 ret -4" "$tmp/agent.rec" && [ "$(counts "$tmp/sup.json")" = "$(counts "$tmp/agent.json")" ]; then
	pass same_records
else
	fail same_records "rc $rs/$ra, $(wc -l < "$tmp/agent.rec") records; $(diff "$tmp/sup.rec" "$tmp/agent.rec" | head -n 4 | tr '\n' '|') counts $(counts "$tmp/sup.json") / $(counts "$tmp/agent.json") $(head -c 300 "$tmp/agent.err")"
fi

# The fast path (src/events/syscall_site.c): agent_fast's getppid calls from a loop that signals
# interrupt (their handlers call it too, one nested in the other), four threads at once, a
# fork child, a clone3 child on its own stack, a posix_spawn and a vfork child: each process's count
# in the map is the count it printed, under the supervisor, under the agent, and under the
# agent with every call trapping (BPFVM_AGENT_PATCH=0), and each of them is reported ended
# ({"type":"exit"}); patched, the main process traps a few times (once a site), not once a call.
calls() { grep '^calls ' "$(dirname "$1")/calls.${1##*.}" | awk '{ print $2, $3 }' | sort; }
mapped() { grep '"name":"counts"' "$1" | grep -o '"formatted":{"key":[0-9]*,"value":[0-9]*}' |
	sed 's/.*"key":\([0-9]*\),"value":\([0-9]*\)}/\1 \2/' | sort; }
ok=1 why=
for m in supervisor agent nopatch; do
	mode=$m; [ $m = nopatch ] && mode=agent
	rm -f "$tmp/calls.$m"
	AGENT_FAST_OUT="$tmp/calls.$m" BPFVM_AGENT_STATS=1 BPFVM_AGENT_PATCH=$([ $m = nopatch ] && echo 0 || echo 1) \
		timeout 60 "$BPFVM" trace --json --dump-maps --mode $mode "$tmp/agent.bpf.o" -- "$tmp/agent_fast" \
		> "$tmp/fast.$m" 2> "$tmp/fast.$m.err"
	rc=$?
	ended=$(grep '"type":"exit"' "$tmp/fast.$m" | sed 's/.*"pid":\([0-9]*\),"status":0}/\1/' | sort | tr '\n' ' ')
	if [ $rc -ne 0 ] || [ "$(calls "$tmp/fast.$m" | wc -l)" -ne 5 ] ||
	   [ "$(calls "$tmp/fast.$m")" != "$(mapped "$tmp/fast.$m")" ] ||
	   { [ "$kv" -ge 6015 ] && [ "$ended" != "$(calls "$tmp/fast.$m" | awk '{ print $1 }' | sort | tr '\n' ' ')" ]; }; then
		ok=0 why="$why $m: rc $rc, printed $(calls "$tmp/fast.$m" | tr '\n' ' ') counted $(mapped "$tmp/fast.$m" | tr '\n' ' ') ended $ended $(head -c 200 "$tmp/fast.$m.err");"
	fi
done
main=$(calls "$tmp/fast.agent" | sort -k 2 -n | tail -n 1)
traps() { grep "bpfvm agent: pid ${main%% *}:" "$1" | awk '{ print $5 }'; }
t=$(traps "$tmp/fast.agent.err")
main=$(calls "$tmp/fast.nopatch" | sort -k 2 -n | tail -n 1)
tn=$(traps "$tmp/fast.nopatch.err")
if [ -z "$t" ] || [ -z "$tn" ] || [ $((t * 20)) -ge "${main##* }" ] || [ "$tn" -lt "${main##* }" ]; then
	ok=0 why="$why traps patched '$t', every call '$tn' for ${main##* } calls;"
fi
if [ $ok -eq 1 ]; then
	pass fast_path
else
	fail fast_path "$why"
fi

# what a syscall instruction keeps (general registers but rax/rcx/r11, flags, vector and
# mask registers) kept across an attached getppid, at an inline site and a wrapper's: 200
# calls patched (one trap a site), and every one trapping
ok=1 why=
for p in 1 0; do
	out=$(BPFVM_AGENT_PATCH=$p BPFVM_AGENT_STATS=1 timeout 60 "$BPFVM" trace --mode agent "$tmp/agent.bpf.o" -- \
		"$tmp/agent_regs" 2> "$tmp/regs.err" | grep '^regs')
	traps=$(grep -o '[0-9]* traps' "$tmp/regs.err" | awk '{ print $1 }')
	if [ "$out" != "regs ok 200" ] || [ -z "$traps" ] || { [ $p = 1 ] && [ "$traps" -gt 4 ]; } ||
	   { [ $p = 0 ] && [ "$traps" -ne 200 ]; }; then
		ok=0 why="$why patch=$p: '$out', traps '$traps' $(head -c 200 "$tmp/regs.err");"
	fi
done
if [ $ok -eq 1 ]; then
	pass regs_kept
else
	fail regs_kept "$why"
fi

# opensnoop under the agent: the workload's four opens (its own, the failed one, its
# child's and its thread's) as the supervisor reports them; its exec of /bin/true is handed
# over to the supervisor (openat is one of ld.so's calls, made before an agent could load),
# which reports true's opens as it alone does; auto picks the supervisor for that reason.
timeout 60 "$BPFVM" trace --json --mode supervisor "$tmp/opensnoop.bpf.o" -- "$tmp/workload" > "$tmp/os.json" 2>&1
timeout 60 "$BPFVM" trace --json --mode agent "$tmp/opensnoop.bpf.o" -- "$tmp/workload" > "$tmp/oa.json" 2> "$tmp/oa.err"
ra=$?
opens() { grep -E '"filename":"(/etc/hostname|/etc/passwd|/nonexistent/bpfvm-trace)"|"comm":"true"' "$1" | sed 's/.*"ret":\(-*[0-9]*\),"flags":\([0-9]*\),"comm":"\([^"]*\)","filename":"\([^"]*\)".*/\1 \2 \3 \4/' | sort; }
timeout 60 "$BPFVM" trace --mode auto "$tmp/opensnoop.bpf.o" -- "$tmp/workload" > /dev/null 2> "$tmp/oauto.err"
if [ $ra -eq 0 ] && [ "$(opens "$tmp/os.json" | wc -l)" -ge 6 ] &&
   [ "$(opens "$tmp/os.json")" = "$(opens "$tmp/oa.json")" ] &&
   grep -q "execs /bin/true, which the agent cannot enter (an attached system call is one the dynamic linker makes before the agent is loaded): the supervisor follows it" "$tmp/oa.err" &&
   grep -q "mode supervisor: system call 257 is attached" "$tmp/oauto.err"; then
	pass opensnoop
else
	fail opensnoop "rc $ra, opens $(opens "$tmp/os.json" | tr '\n' '|') / $(opens "$tmp/oa.json" | tr '\n' '|') $(head -c 300 "$tmp/oa.err")"
fi

# The hand-over: agent_work (dynamic) has a forked child exec a static copy of itself, then
# execs it itself; each static process forks, starts a thread and execs the dynamic program
# again.  Under auto (the agent at first), each exec of the static program is handed over to
# the supervisor, said on stderr; the records from the first getppid on (the supervisor alone
# also sees the command's own exec), getppid's and execve's at entry and exit, the per-process
# counts and the exits are the supervisor's alone.  Then the same with a set-user-ID copy of
# the dynamic program (to nobody; root only): the kernel runs it as set-user-ID (AT_SECURE)
# under both.
from_getppid() { sed -n '/"data":"[0-9a-f]\{16\}6e000000/,$p' "$1" > "$1.from"; normalize "$1.from"; }
handover() {   # name, the program exec'd, the reason said
	for m in supervisor auto; do
		timeout 60 "$BPFVM" trace --json --dump-maps --mode $m "$tmp/handover.bpf.o" -- \
			"$tmp/agent_work" handover "$2" > "$tmp/ho.$m" 2> "$tmp/ho.$m.err"
		eval "rc_$m=$?"
	done
	said=$(grep -c "execs $2, which the agent cannot enter ($3): the supervisor follows it" "$tmp/ho.auto.err")
	if [ "$rc_supervisor" -eq 0 ] && [ "$rc_auto" -eq 0 ] && [ "$said" -eq 2 ] &&
	   grep -q "mode agent" "$tmp/ho.auto.err" &&
	   [ "$(from_getppid "$tmp/ho.supervisor" | wc -l)" -eq 17 ] &&
	   [ "$(from_getppid "$tmp/ho.supervisor")" = "$(from_getppid "$tmp/ho.auto")" ] &&
	   [ "$(counts "$tmp/ho.supervisor")" = "$(counts "$tmp/ho.auto")" ] &&
	   [ "$(exits "$tmp/ho.supervisor")" = "0 0 4 4 " ] &&
	   [ "$(exits "$tmp/ho.auto")" = "0 0 4 4 " ] &&
	   [ "$(grep -c '^secure' "$tmp/ho.supervisor.err")" = "$4" ] &&
	   [ "$(grep -c '^secure' "$tmp/ho.auto.err")" = "$4" ]; then
		pass "$1"
	else
		fail "$1" "rc $rc_supervisor/$rc_auto, said $said, $(from_getppid "$tmp/ho.supervisor" | wc -l) records; $(diff "$tmp/ho.supervisor.from" "$tmp/ho.auto.from" | head -n 4 | tr '\n' '|') counts $(counts "$tmp/ho.supervisor") / $(counts "$tmp/ho.auto") exits $(exits "$tmp/ho.supervisor")/ $(exits "$tmp/ho.auto") $(head -c 300 "$tmp/ho.auto.err")"
	fi
}
if cc -O2 -static -o "$tmp/work.static" tests/data/trace/agent_work.c -pthread 2> /dev/null; then
	handover handover_static "$tmp/work.static" "it is statically linked" 0
else
	echo "SKIP trace_agent_handover_static: no static libc to link with"
fi
# bpfvm trace killed (SIGKILL) while it supervises a handed-over static program that sleeps in
# clock_nanosleep and calls getppid (both attached) 20 times: the program goes on untraced to
# its end (the supervisor's SIGSYS handler and landing page in it), the calls before the kill
# recorded, not all of them
if [ -x "$tmp/work.static" ]; then
	"$BPFVM" trace --json --mode agent "$tmp/agent.bpf.o" -- "$tmp/agent_work" survive \
		"$tmp/work.static" > "$tmp/surv.out" 2> "$tmp/surv.err" &
	bp=$!
	for i in $(seq 200); do
		[ "$(grep -c '"type":"ringbuf"' "$tmp/surv.out")" -ge 4 ] && break
		sleep 0.01
	done
	kill -9 $bp
	wait $bp 2> /dev/null
	for i in $(seq 60); do
		grep -q '^survived' "$tmp/surv.out" && break
		sleep 0.05
	done
	before=$(grep -c '"type":"ringbuf"' "$tmp/surv.out")
	if grep -q '^survived' "$tmp/surv.out" && [ "$before" -ge 4 ] && [ "$before" -lt 40 ] &&
	   grep -q "the supervisor follows it" "$tmp/surv.err"; then
		pass handover_survives_kill
	else
		fail handover_survives_kill "$before records before the kill, $(tail -n 1 "$tmp/surv.out" | head -c 100) $(head -c 300 "$tmp/surv.err")"
	fi
fi
cp "$tmp/agent_work" "$tmp/work.suid"
if [ "$(id -u)" = 0 ] && chown nobody "$tmp/work.suid" 2> /dev/null && chmod 4755 "$tmp/work.suid" &&
   chmod 755 "$tmp" && "$tmp/work.suid" static /bin/true 2>&1 | grep -q '^secure'; then
	handover handover_setuid "$tmp/work.suid" "it is set-user-ID or set-group-ID" 2
else
	echo "SKIP trace_agent_handover_setuid: not root, or $tmp does not honour set-user-ID (nosuid mount)"
fi

# A command under --mode agent that execs a Go program (cgo: dynamically linked, so the agent
# would load) with uprobes on its functions (test_kernel_uprobe's go.bpf.c), which would run on
# its goroutines' small stacks (the program dies: "unexpected return pc"): handed over to the
# supervisor, which counts their calls as the supervisor alone does, and the program ends
# normally.  The Go program as the command, and a script it interprets, are refused by
# --mode agent and sent to the supervisor by auto; the script exec'd is handed over.
if command -v go > /dev/null 2>&1 &&
   GOCACHE="$tmp/gocache" GO111MODULE=off go build -o "$tmp/goworkload" \
	tests/data/uprobe/goworkload.go > "$tmp/go.log" 2>&1 &&
   "$CLANG" -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/"$(uname -m)"-linux-gnu \
	-DGOWORKLOAD="\"$tmp/goworkload\"" -c tests/data/uprobe/go.bpf.c -o "$tmp/go.bpf.o" >> "$tmp/go.log" 2>&1; then
	for m in supervisor agent; do
		timeout 60 "$BPFVM" trace --json --dump-maps --mode $m "$tmp/go.bpf.o" -- \
			sh -c "exec $tmp/goworkload" > "$tmp/go.$m" 2> "$tmp/go.$m.err"
		eval "rc_$m=$?"
	done
	# hits[0..2]: work's calls, the sum of its arguments, tiny's calls (outer's entries vary)
	hits() { grep '"name":"hits"' "$1" | grep -o '"value":[0-9]*}' | head -n 3 | tr -d '\n'; }
	h='"value":4000}"value":1998000}"value":4000}'
	if [ "$rc_supervisor" -eq 0 ] && [ "$rc_agent" -eq 0 ] &&
	   [ "$(hits "$tmp/go.supervisor")" = "$h" ] && [ "$(hits "$tmp/go.agent")" = "$h" ] &&
	   grep -q '^sum 5994000$' "$tmp/go.agent" && [ "$(exits "$tmp/go.agent")" = "0 " ] &&
	   grep -q "goworkload, which the agent cannot enter (it is a Go program" "$tmp/go.agent.err"; then
		pass handover_go
	else
		fail handover_go "rc $rc_supervisor/$rc_agent, hits '$(hits "$tmp/go.supervisor")' / '$(hits "$tmp/go.agent")', exits $(exits "$tmp/go.agent") $(head -c 300 "$tmp/go.agent.err")"
	fi
	printf '#!%s\n' "$tmp/goworkload" > "$tmp/go.sh"
	chmod +x "$tmp/go.sh"
	ok=1
	timeout 60 "$BPFVM" trace --mode agent "$tmp/go.bpf.o" -- "$tmp/goworkload" > /dev/null 2> "$tmp/gs.err"
	[ $? -eq 1 ] && grep -q -- "--mode agent: it is a Go program" "$tmp/gs.err" || ok=0
	timeout 60 "$BPFVM" trace --mode agent "$tmp/go.bpf.o" -- "$tmp/go.sh" > /dev/null 2>> "$tmp/gs.err"
	[ $? -eq 1 ] && grep -q -- "--mode agent: its #! interpreter $tmp/goworkload is a Go program" "$tmp/gs.err" || ok=0
	timeout 60 "$BPFVM" trace --mode auto "$tmp/go.bpf.o" -- "$tmp/go.sh" > "$tmp/gs.out" 2>> "$tmp/gs.err"
	[ $? -eq 0 ] && grep -q "mode supervisor: its #! interpreter $tmp/goworkload is a Go program" "$tmp/gs.err" &&
		grep -q '^sum 5994000$' "$tmp/gs.out" || ok=0
	# and the script exec'd under the agent: the kernel runs its interpreter without another
	# execve, so the agent judges the interpreter and hands the process over
	timeout 60 "$BPFVM" trace --mode agent "$tmp/go.bpf.o" -- sh -c "exec $tmp/go.sh" > "$tmp/gs.out" 2>> "$tmp/gs.err"
	[ $? -eq 0 ] && grep -q "go.sh, which the agent cannot enter (its #! interpreter $tmp/goworkload is a Go program" "$tmp/gs.err" &&
		grep -q '^sum 5994000$' "$tmp/gs.out" || ok=0
	if [ $ok -eq 1 ]; then
		pass go_refused
	else
		fail go_refused "$(head -c 400 "$tmp/gs.err")"
	fi
else
	echo "SKIP trace_agent_handover_go: go (golang-go) is missing or cannot build tests/data/uprobe/goworkload.go"
	echo "SKIP trace_agent_go_refused: go (golang-go) is missing or cannot build tests/data/uprobe/goworkload.go"
fi

# what the agent cannot enter: a static program, running processes, maps holding what is
# this process's (a perf event array's output); a bad --mode
ok=1
timeout 60 "$BPFVM" trace --mode agent "$tmp/agent_perf.bpf.o" -- "$tmp/agent_work" > /dev/null 2> "$tmp/pf.err"
[ $? -eq 1 ] && grep -q -- "--mode agent: map out is a perf event array" "$tmp/pf.err" || ok=0
timeout 60 "$BPFVM" trace --mode auto "$tmp/agent_perf.bpf.o" -- "$tmp/agent_work" > "$tmp/pf.out" 2> "$tmp/pf.err"
[ $? -eq 0 ] && grep -q "mode supervisor: map out is a perf event array" "$tmp/pf.err" &&
	[ "$(grep -c '^perf out' "$tmp/pf.out")" -eq 6 ] || ok=0
if [ -x "$tmp/work.static" ]; then
	timeout 60 "$BPFVM" trace --mode agent "$tmp/agent.bpf.o" -- "$tmp/work.static" > /dev/null 2> "$tmp/st.err"
	[ $? -eq 1 ] && grep -q -- "--mode agent: it is statically linked" "$tmp/st.err" || ok=0
	timeout 60 "$BPFVM" trace --mode auto "$tmp/agent.bpf.o" -- "$tmp/work.static" > /dev/null 2> "$tmp/st.err"
	[ $? -eq 0 ] && grep -q "mode supervisor: it is statically linked" "$tmp/st.err" || ok=0
fi
timeout 60 "$BPFVM" trace --mode agent "$tmp/agent.bpf.o" -p $$ > /dev/null 2> "$tmp/p.err"
[ $? -eq 1 ] && grep -q -- "-p: the agent enters only a command it starts" "$tmp/p.err" || ok=0
timeout 60 "$BPFVM" trace --mode fast "$tmp/agent.bpf.o" -- true > /dev/null 2> "$tmp/m.err"
[ $? -eq 2 ] && grep -q -- "--mode is auto, agent or supervisor, not 'fast'" "$tmp/m.err" || ok=0
if [ $ok -eq 1 ]; then
	pass refusals
else
	fail refusals "$(cat "$tmp/pf.err" "$tmp/st.err" "$tmp/p.err" "$tmp/m.err" | head -c 400)"
fi
exit $status
