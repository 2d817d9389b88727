#!/bin/sh
# Install the Debian packages bpfvm's build, tests and benchmarks need, if any is missing.
# Called by the Makefile before the first build; safe to run again.
set -e
PKGS="gcc g++ make libelf-dev zlib1g-dev libzydis-dev libpcap-dev linux-libc-dev
      clang clang-19 llvm-19 lld-19 libclang-rt-19-dev libclang-rt-14-dev
      libbpf-dev libbpf-tools bpftool libseccomp-dev tcpdump iproute2 strace linux-source-6.12
      musl-tools golang-go systemtap-sdt-dev python3"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing Debian packages:$missing; run as root or install them" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# shellcheck disable=SC2086
apt-get install -y -q $missing >/dev/null
