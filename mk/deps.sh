#!/bin/sh
# Installs what nvwa's build, tests and demo need on Debian 12, and fetches
# the two Debian kernel builds the test VM runs.  Idempotent and quiet when
# nothing is missing, so `make check` and `make demo` can call it every time.
set -eu

PKGS="build-essential clang libclang-rt-14-dev pkg-config
      libfdt-dev device-tree-compiler zlib1g-dev libzstd-dev liblzma-dev
      liblz4-dev nettle-dev libjson-c-dev libnftables-dev
      criu busybox-static qemu-system-x86 cpio kmod e2fsprogs xz-utils
      libbpf-dev libelf-dev bpftool kexec-tools chromium jq
      debhelper dh-dkms dkms lintian fakeroot mmdebstrap
      flex bison bc libssl-dev dwarves"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done

if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "deps: missing packages:$missing" >&2
		echo "deps: run as root (or: apt-get install$missing)" >&2
		exit 1
	fi
	echo "deps: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	# kexec-tools must not take over this host's own reboots.
	echo "kexec-tools kexec-tools/load_kexec boolean false" |
		debconf-set-selections
	apt-get update -q
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing
fi

"$(dirname "$0")/fetch-checkpatch"
exec "$(dirname "$0")/../tests/vm/fetch-kernel"
