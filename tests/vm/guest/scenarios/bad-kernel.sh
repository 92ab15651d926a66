# Scenario 4: a bad kernel image (missing, truncated, not a kernel) is
# refused before anything is frozen; the application runs on untouched.
nothing_left() {
	[ "$(cat /sys/kernel/kexec_loaded)" = 0 ] &&
		[ -z "$(ls /run/nvwa/store | grep '^gen-')" ] &&
		[ ! -e /run/nvwa/store/handover.dtb ]
}
refused() {	# refused IMAGE EXPECTED-TEXT
	nvwa update --kernel "$1" --initrd /boot/initrd.img --app "$pid" \
		> /tmp/bad.log 2>&1
	local rc=$?
	cat /tmp/bad.log
	[ "$rc" = 1 ] && grep -q "$2" /tmp/bad.log &&
		grep -q 'before any application was frozen' /tmp/bad.log
}
# Ctrl-C once the pre-dump has started: held until the step ends, then
# everything is undone.
interrupted_update() {
	local u
	nvwa update --kernel /boot/vmlinuz --initrd /boot/initrd.img --app "$pid" \
		> /tmp/int.log 2>&1 &
	u=$!
	wait_for 120 grep -q 'Pre-dumping' /tmp/int.log || return 1
	kill -INT "$u"
	wait "$u"
	local rc=$?
	cat /tmp/int.log
	[ "$rc" = 1 ] && grep -q 'Interrupted' /tmp/int.log &&
		grep -q 'Update aborted' /tmp/int.log
}
main() {
	store_format
	pid=$(start_app app --mem 64)
	wait_ready app 120
	check "missing image refused" refused /boot/no-such-vmlinuz "No such file"
	check "truncated image refused" refused /boot/vmlinuz.truncated "truncated"
	check "garbage refused" refused /boot/vmlinuz.garbage "no x86 boot header"
	check "a non-existent PID refused" sh -c \
		"! nvwa update --kernel /boot/vmlinuz --app 999999 > /tmp/nopid.log 2>&1 && grep -q 999999 /tmp/nopid.log"
	check "nothing loaded, no images left" nothing_left
	check "application not stopped" not_stopped "$pid"
	check "application keeps counting" app_progresses app
	check "memory untouched" app_verify "$pid" app
	check "counter continuous" app_counter_continuous app
	check "a dry run passes every check" sh -c \
		"nvwa update --dry-run --kernel /boot/vmlinuz --initrd /boot/initrd.img --app $pid > /tmp/dry.log 2>&1"
	check "and leaves nothing behind" nothing_left
	check "application still counting" app_progresses app
	# Images of an update that was never restored (its record went with
	# pinmem, which this boot did not load): never reused, never deleted
	# unless the operator says so.
	mkdir -p /run/nvwa/store/gen-7 && echo keep > /run/nvwa/store/gen-7/marker
	check "images of an update never restored stop the next update" sh -c \
		"! nvwa update --dry-run --kernel /boot/vmlinuz --initrd /boot/initrd.img --app $pid > /tmp/unr.log 2>&1 && grep -q 'never restored (generation 7)' /tmp/unr.log && grep -q 'before any application was frozen' /tmp/unr.log"
	check "and are kept" grep -q keep /run/nvwa/store/gen-7/marker
	check "--discard-unrestored deletes them, numbering past them" sh -c \
		"nvwa update --dry-run --discard-unrestored --kernel /boot/vmlinuz --initrd /boot/initrd.img --app $pid > /tmp/unr2.log 2>&1 && grep -q 'generation 8' /tmp/unr2.log && [ ! -e /run/nvwa/store/gen-7 ]"
	check "and the dry run leaves nothing behind" nothing_left
	check "an interrupted update rolls back" interrupted_update
	check "and leaves nothing behind either" nothing_left
	check "the application runs on" sh -c "grep -q '^State:.*[RS] ' /proc/$pid/status"
	check "and keeps counting" app_progresses app
	check "memory still intact" app_verify "$pid" app
}
