# vm: -r 192M@1536M
# With the pinmem module serving a region, the handover record (and the
# timeline in it) lives in pinmem, not in the store: written there before
# the kexec, found there by the restore, removed once the update is done.
# The application keeps 64 MiB in a pinmem area mapped from /dev/pinmem:
# nvwa update carries it across by reference (CRIU and nvwa's plugin),
# and the restored process maps the same RAM.
main() {
	local pid
	if [ "$1" = 1 ]; then
		check "pinmem formatted" nvwa pinmem format
		start_and_update app --mem 64 --pinmem app-pin:64
	fi
	pid=$(app_pid)
	check "nvwa restore succeeded" restore_ok
	check "the record came from pinmem" grep -q "/run/pinmem/nvwa.handover" /tmp/restore.log
	check "PID $pid runs with its memory, the pinned area too" \
		app_verify_pinned "$pid" app $((64 << 20))
	nvwa pinmem mount > /tmp/mount.log 2>&1
	check "it maps the area at its own region offset (the same RAM)" maps_area "$pid" app-pin
	check "its writes land in the area" heartbeat_moves app-pin
	check "the record is gone from pinmem once restored" [ ! -e /run/pinmem/nvwa.handover ]
	check "nothing was written to the store's record" [ ! -e /run/nvwa/store/handover.dtb ]
	check "pinmem holds only the application's area" \
		[ "$(nvwa pinmem ls | awk 'NR > 1 { print $1 }')" = app-pin ]
	check "the report has the whole timeline" has_phase kexec-jump
	check "nvwa status shows the region" status_is '.pinmem.state == "valid"'
	check "no kernel warning" kernel_clean
	send_report
}
