# Benchmark: does a chain of reboots get slower in the test VM, and whose
# doing is it?  Five boots of the same kernel and initramfs, no nvwa, no
# application: nvwa.chain=kexec goes from one to the next with a plain
# kexec (kexec-tools, the same command line), nvwa.chain=reset with a
# reset of the machine (run-vm -R: QEMU keeps the guest's RAM, the
# firmware runs again).  Each boot reports its initramfs unpack (the
# kernel log's "Trying to unpack" to "Freeing initrd memory") and the
# kernel's uptime when /init's scenario starts.
HOW=$(cmdline_value nvwa.chain)
main() {
	local a b
	a=$(klog_s "Trying to unpack rootfs") b=$(klog_s "Freeing initrd memory")
	metric "boot${1}_unpack_ms" "$(awk -v a="$a" -v b="$b" 'BEGIN { if (a != "" && b != "") printf "%.0f", (b - a) * 1000 }')"
	metric "boot${1}_init_ms" "$(awk '{ printf "%.0f", $1 * 1000 }' /proc/uptime)"
	[ "$1" -ge 5 ] && return 0
	if [ "$HOW" = reset ]; then
		sync
		echo b > /proc/sysrq-trigger
		fatal "the reset returned"
	fi
	plain_kexec
}
