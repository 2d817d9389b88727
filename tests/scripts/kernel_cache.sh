# kernel_cache.sh - sourced by the test scripts that ask the running kernel
# the same questions in both passes of `make test` (plain, then ASan+UBSan):
# libbpf_list's loads of the same objects, whose answers do not depend on
# bpfvm's build.  With BPFVM_KERNEL_CACHE set (the Makefile sets it for both
# passes) an answer is kept there, keyed by all it depends on: the question
# (libbpf_list's source and the kernel test headers, the mode, the object's
# bytes and file name), the kernel (uname -r -v), libbpf's version and a simulated kernel
# (BPFVM_TEST_KERNEL_DENY); the second pass then reads it instead of
# loading the object into the kernel again.  Unset: every question is asked.
kernel_cache_env=$({ uname -r -v; dpkg-query -W -f='${Version}\n' libbpf-dev 2>/dev/null
		    echo "deny=$BPFVM_TEST_KERNEL_DENY"
		    cat tests/tools/libbpf_list.c tests/kernel/kernel_*.h; } | sha256sum | cut -c1-64)

# kernel_ask TOOL MODE OBJECT: TOOL MODE OBJECT's standard output and exit
# status (its standard error is dropped), from the cache when it has them.
kernel_ask() {
	if [ -z "$BPFVM_KERNEL_CACHE" ]; then
		"$1" "$2" "$3" 2> /dev/null
		return
	fi
	# the object's name too: libbpf names its internal maps after it
	_k=$BPFVM_KERNEL_CACHE/$({ echo "$kernel_cache_env $2 ${3##*/}"; cat "$3"; } |
				 sha256sum | cut -c1-64)
	if [ -f "$_k.rc" ] && [ -f "$_k.out" ]; then
		cat "$_k.out"
		return "$(cat "$_k.rc")"
	fi
	mkdir -p "$BPFVM_KERNEL_CACHE"
	"$1" "$2" "$3" > "$_k.out.$$" 2> /dev/null
	_rc=$?
	# out first, then rc: a reader that finds rc finds the whole answer
	mv "$_k.out.$$" "$_k.out" && echo "$_rc" > "$_k.rc.$$" && mv "$_k.rc.$$" "$_k.rc"
	cat "$_k.out"
	return $_rc
}
