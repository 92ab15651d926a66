# Benchmark: power-on -> /init, and when the memory is all initialised,
# for the guest's memory and the command line run-vm gives (tests/vm/bench:
# Debian's kernel, the nvwa kernel with deferred_page_init=sync and with
# =async and =async,low).  One cold boot, no kexec, for each.
# /init's time is the TSC read the moment /init runs (.early): the
# kernel's log has no clock for its first part, where the memmap of the
# zones below the highest is initialised.
main() {
	local done
	metric init_ms "$(awk 'NR == 1 { printf "%.0f", $1 }' /tmp/early.log)"
	metric klog_init_ms "$(klog_s "Run /init as init process" | awk '{ printf "%.0f", $1 * 1000 }')"
	metric managed_at_init_kb "$(sed -n 's/^managed_kb //p' /tmp/early.log)"
	wait_for 600 sh -c 'dmesg | grep -q "deferred pages initialised in"'
	done=$(klog_s "deferred pages initialised in")
	metric memmap_done_ms "$(echo "$done" | awk '$1 != "" { printf "%.0f", $1 * 1000 }')"
	metric memmap_deferred_ms "$(dmesg | sed -n 's/.*deferred pages initialised in \([0-9]*\)ms.*/\1/p' | head -n 1)"
}
