# vm: -r 192M@1536M
# A boot nvwa update started (nvwa.handover= on its command line) whose
# handover record cannot be found is an error, never "nothing to
# restore": here the record lives in pinmem and the pinmem module is
# missing when the restore runs (as on a host whose restore unit did not
# load it).  The restore fails and says to load pinmem; the images wait;
# once the module is back, `nvwa restore --retry` brings the application
# back with its memory.
pre_restore() {
	[ "$1" = 2 ] || return 0
	# The test bed's init loaded it: unloaded (the region keeps the
	# record) and hidden from modprobe, so the hook's load fails.
	umount /run/pinmem 2>/dev/null
	rmmod pinmem || fatal "cannot unload pinmem"
	mv "/lib/modules/$(uname -r)/extra/pinmem.ko" /tmp/pinmem.ko
}

main() {
	local pid
	if [ "$1" = 1 ]; then
		check "pinmem formatted" nvwa pinmem format
		start_and_update app --mem 16
	fi
	pid=$(app_pid)
	check "the restore failed: a handover boot without a record is an error" \
		sh -c '[ "$(cat /tmp/restore.rc)" != 0 ]'
	check "it says pinmem is not loaded" grep -q "pinmem, where it may be, is not loaded" /tmp/restore.log
	check "it did not say there is nothing to restore" \
		sh -c '! grep -q "No update to restore" /tmp/restore.log'
	check "the application is not running yet" sh -c "! kill -0 $pid 2>/dev/null"
	mv /tmp/pinmem.ko "/lib/modules/$(uname -r)/extra/pinmem.ko"
	check "pinmem loads" pinmem_load
	check "nvwa restore --retry restores it" sh -c 'nvwa restore --retry > /tmp/retry.log 2>&1'
	report_file retry /tmp/retry.log
	check "PID $pid is running again" app_alive "$pid"
	check "16 MiB verified byte for byte" app_verify "$pid" app
	check "a second restore finds it done, quietly" sh -c 'nvwa restore --if-pending > /tmp/again.log 2>&1'
	check "nvwa status --json shows the update restored" status_is '.last_update.outcome == "restored"'
}
