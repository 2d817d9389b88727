#!/bin/sh
# `bpfvm tc attach` on real interfaces against the kernel's own tc
# (clsact, `tc filter ... bpf da`), the same object on the same traffic
# (tests/data/tc/tc_live.bpf.c, tests/data/tc/sender.c).  Three network
# namespaces of the test's own: A (10.78.0.1) and B (10.78.0.2), each
# joined by a veth pair to R, whose ends ra and rb have no addresses;
# IPv6 off and static neighbours, so that only the test's frames flow.
#  - count on ra's ingress: 5 UDP datagrams and 3 pings from A; the
#    program's map (per protocol, len, pkt_type, ifindex against
#    ingress_ifindex; the non-zero slots, which bpfvm prints) is equal after the kernel's run (bpftool) and after
#    bpfvm's (--dump-maps --json), and bpfvm's counters say 8 TC_ACT_OK.
#  - redirect on ra and rb's ingress (a bridge through bpf_redirect, UDP
#    port 9999 TC_ACT_SHOT): pings from A answered by B, datagrams to 7777
#    arriving, to 9999 not, the same under the kernel and bpfvm; nothing
#    passes with neither.
#  - --egress runs the program on copies of sent frames (counted, no
#    action applied); errors: no such interface, no --ingress/--egress.
# Namespaces are removed at the end; every wait is bounded.  Skips (with
# the reason) without root, ip/tc/bpftool, clang or libbpf's headers.
BUILD=${BUILD:-build}
BPFVM=${BPFVM:-$BUILD/bpfvm}
BPFVM=$(cd "$(dirname "$BPFVM")" && pwd)/$(basename "$BPFVM")
CLANG=${CLANG:-clang-19}
status=0
pass() { echo "PASS tc_live_$1"; }
fail() { echo "FAIL tc_live_$1: $2"; status=1; }

for t in ip tc bpftool "$CLANG"; do
	command -v "$t" > /dev/null 2>&1 || { echo "SKIP tc_live: $t is missing"; exit 0; }
done
[ "$(id -u)" = 0 ] || { echo "SKIP tc_live: needs root (network namespaces)"; exit 0; }
[ -f /usr/include/bpf/bpf_helpers.h ] || { echo "SKIP tc_live: libbpf's headers are missing"; exit 0; }

tmp=$(mktemp -d)
A=bpfvm_tca$$ B=bpfvm_tcb$$ R=bpfvm_tcr$$
bpid=
cleanup() {
	[ -n "$bpid" ] && kill -9 "$bpid" 2>/dev/null
	for n in $A $B $R; do ip netns del $n 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
if ! cc -O2 -o "$tmp/sender" tests/data/tc/sender.c > "$tmp/build.log" 2>&1; then
	echo "FAIL tc_live: the sender does not build"; exit 1
fi
S=$tmp/sender
for n in $A $B $R; do
	ip netns add $n && ip netns exec $n sh -c 'echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6;
		echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6' ||
		{ echo "SKIP tc_live: cannot create network namespaces"; exit 0; }
done
ip -n $A link add va type veth peer name ra netns $R &&
ip -n $B link add vb type veth peer name rb netns $R &&
ip -n $A addr add 10.78.0.1/24 dev va && ip -n $B addr add 10.78.0.2/24 dev vb &&
for l in "$A va" "$B vb" "$R ra" "$R rb" "$A lo" "$B lo"; do set -- $l; ip -n $1 link set $2 up || exit 1; done &&
ip -n $A neigh add 10.78.0.2 lladdr "$(ip -n $B -br link show vb | awk '{print $3}')" dev va nud permanent &&
ip -n $B neigh add 10.78.0.1 lladdr "$(ip -n $A -br link show va | awk '{print $3}')" dev vb nud permanent ||
	{ echo "FAIL tc_live: cannot set up the veth pairs"; exit 1; }
ra=$(ip -n $R -o link show ra | cut -d: -f1)
rb=$(ip -n $R -o link show rb | cut -d: -f1)
O=$tmp/tc_live.bpf.o
if ! "$CLANG" -O2 -g -target bpf -DRA="$ra" -DRB="$rb" -I/usr/include/"$(uname -m)"-linux-gnu \
	-c tests/data/tc/tc_live.bpf.c -o "$O" >> "$tmp/build.log" 2>&1; then
	echo "FAIL tc_live: the object does not build:"; head -n 5 "$tmp/build.log" | sed 's/^/     ... /'
	exit 1
fi
sleep 0.3   # let the links settle: no frame of their own in what is counted

# the kernel's tc: the program of section $2 on the ingress of each of R's devices in $1
kernel_tc() {
	for d in $1; do
		ip netns exec $R tc qdisc add dev $d clsact &&
		ip netns exec $R tc filter add dev $d ingress bpf da obj "$O" sec "$2" || return 1
	done
}
kernel_tc_off() { for d in $1; do ip netns exec $R tc qdisc del dev $d clsact 2>/dev/null; done; }

# bpfvm tc attach in R with ARGS, in the background; waits (bounded) until it is attached
bpfvm_tc() {
	ip netns exec $R timeout 20 "$BPFVM" tc attach "$O" "$@" > "$tmp/b.out" 2> "$tmp/b.err" &
	bpid=$!
	for i in $(seq 50); do grep -q 'attached to' "$tmp/b.err" && return 0; sleep 0.1; done
	return 1
}
bpfvm_stop() {
	kill -INT "$bpid" 2>/dev/null
	for i in $(seq 50); do kill -0 "$bpid" 2>/dev/null || break; sleep 0.1; done
	wait "$bpid"; rc=$?; bpid=
}

count_traffic() {
	ip netns exec $A "$S" udp 10.78.0.2 7777 5 && ip netns exec $A "$S" ping 10.78.0.2 3 300 > /dev/null
	sleep 0.3
}

# ---- count: the map after the kernel's run and after bpfvm's ----
if kernel_tc ra classifier/count; then
	count_traffic
	id=$(ip netns exec $R tc filter show dev ra ingress | sed -n 's/.* id \([0-9]*\) .*/\1/p' | head -n 1)
	map=$(bpftool prog show id "$id" 2>/dev/null | sed -n 's/.*map_ids \([0-9]*\).*/\1/p')
	bpftool -j map dump id "$map" 2>/dev/null |
		grep -o '"key":[0-9]*,"value":[0-9]*' | sed 's/"key":\([0-9]*\),"value":\([0-9]*\)/\1 \2/' | grep -v ' 0$' > "$tmp/k.counts"
	kernel_tc_off ra
	if ! [ -s "$tmp/k.counts" ]; then
		fail count "cannot read the kernel's map (prog id '$id', map id '$map')"
	elif bpfvm_tc --prog count --dev ra --ingress --count 8 --duration 10 --dump-maps --json; then
		count_traffic
		for i in $(seq 50); do kill -0 "$bpid" 2>/dev/null || break; sleep 0.1; done
		bpfvm_stop
		tr '{' '\n' < "$tmp/b.out" | sed -n 's/^"key":\([0-9]*\),"value":\([0-9]*\).*/\1 \2/p' | grep -v ' 0$' > "$tmp/b.counts"
		if [ $rc = 0 ] && cmp -s "$tmp/k.counts" "$tmp/b.counts" &&
		   grep -q '"TC_ACT_OK":8' "$tmp/b.out" && grep -q "^1 8$" "$tmp/b.counts" &&
		   grep -q "^11 $ra$" "$tmp/b.counts"; then
			pass count
		else
			fail count "exit $rc; kernel (key value): $(tr '\n' ' ' < "$tmp/k.counts"); bpfvm: $(tr '\n' ' ' < "$tmp/b.counts")"
			head -n 3 "$tmp/b.err" | sed 's/^/     ... /'
		fi
	else
		fail count "bpfvm tc attach did not attach: $(head -n 2 "$tmp/b.err")"
	fi
else
	echo "SKIP tc_live_count: the kernel's tc refused the program: $(ip netns exec $R tc filter add dev ra ingress bpf da obj "$O" sec classifier/count 2>&1 | head -n 1) (Linux $(uname -r))"
	kernel_tc_off ra
fi

# ---- redirect: a bridge of ra and rb, under neither, the kernel, bpfvm ----
bridge_traffic() {
	# the listeners end 2 s after their last datagram (or their start): the datagrams go first
	ip netns exec $B "$S" listen 7777 2000 > "$tmp/l7777" & l1=$!
	ip netns exec $B "$S" listen 9999 2000 > "$tmp/l9999" & l2=$!
	for i in $(seq 30); do grep -q listening "$tmp/l7777" && grep -q listening "$tmp/l9999" && break; sleep 0.1; done
	ip netns exec $A "$S" udp 10.78.0.2 7777 5
	ip netns exec $A "$S" udp 10.78.0.2 9999 5
	pings=$(ip netns exec $A "$S" ping 10.78.0.2 3 900)
	wait $l1 $l2
	echo "pings answered $pings, to 7777 $(tail -n 1 "$tmp/l7777"), to 9999 $(tail -n 1 "$tmp/l9999")"
}
none=$(bridge_traffic)
if kernel_tc "ra rb" classifier/redirect; then
	kernel=$(bridge_traffic)
	kernel_tc_off "ra rb"
	if bpfvm_tc --prog redirect --dev ra --dev rb --ingress --duration 15; then
		ours=$(bridge_traffic)
		bpfvm_stop
		want="pings answered 3, to 7777 5, to 9999 0"
		if [ "$none" = "pings answered 0, to 7777 0, to 9999 0" ] && [ "$kernel" = "$want" ] &&
		   [ "$ours" = "$want" ] && grep -q '^TC_ACT_SHOT *5$' "$tmp/b.out" &&
		   grep -q '^TC_ACT_REDIRECT' "$tmp/b.out"; then
			pass redirect
		else
			fail redirect "without a program: $none; the kernel's tc: $kernel; bpfvm: $ours"
			head -n 12 "$tmp/b.out" "$tmp/b.err" | sed 's/^/     ... /'
		fi
	else
		fail redirect "bpfvm tc attach did not attach: $(head -n 2 "$tmp/b.err")"
	fi
else
	echo "SKIP tc_live_redirect: the kernel's tc refused the program (Linux $(uname -r))"
	kernel_tc_off "ra rb"
fi

# ---- egress: the program on copies of what va sends, no action applied ----
if ip netns exec $A timeout 20 "$BPFVM" tc attach "$O" --prog count --dev va --egress --count 4 \
	--duration 10 --json > "$tmp/e.out" 2> "$tmp/e.err" & epid=$!; then
	for i in $(seq 50); do grep -q 'attached to' "$tmp/e.err" && break; sleep 0.1; done
	ip netns exec $A "$S" udp 10.78.0.2 7777 4
	wait $epid; rc=$?
	if [ $rc = 0 ] && grep -q '"frames":4,"verdicts":{[^}]*"TC_ACT_OK":4' "$tmp/e.out" &&
	   grep -q 'no action can be applied' "$tmp/e.err"; then
		pass egress_observed
	else
		fail egress_observed "exit $rc: $(cat "$tmp/e.out" "$tmp/e.err" | head -n 3)"
	fi
fi

# ---- bad input ----
ip netns exec $R "$BPFVM" tc attach "$O" --prog count --dev nosuch0 --ingress > "$tmp/n.out" 2>&1
rc=$?
if [ $rc = 1 ] && grep -q 'nosuch0: no such interface' "$tmp/n.out"; then
	pass no_such_interface
else
	fail no_such_interface "exit $rc: $(head -n 1 "$tmp/n.out")"
fi
"$BPFVM" tc attach "$O" --prog count --dev lo > "$tmp/d.out" 2>&1
rc=$?
if [ $rc = 2 ] && grep -q -- '--ingress and --egress' "$tmp/d.out"; then
	pass needs_direction
else
	fail needs_direction "exit $rc: $(head -n 1 "$tmp/d.out")"
fi
exit $status
