# vm: -r 64M@1536M
# With the pinmem module serving a region, the handover record (and the
# timeline in it) lives in pinmem, not in the store: written there before
# the kexec, found there by the restore, removed once the update is done.
main() {
	local pid
	if [ "$1" = 1 ]; then
		check "pinmem formatted" nvwa pinmem format
		start_and_update app --mem 64
	fi
	pid=$(cat /disk/state/test/pid)
	check "nvwa restore succeeded" restore_ok
	check "the record came from pinmem" grep -q "/run/pinmem/nvwa.handover" /tmp/restore.log
	check "PID $pid runs with its memory" app_verify "$pid" app
	check "the record is gone from pinmem once restored" [ ! -e /run/pinmem/nvwa.handover ]
	check "nothing was written to the store's record" [ ! -e /run/nvwa/store/handover.dtb ]
	check "pinmem is empty again" [ "$(nvwa pinmem ls | wc -l)" = 1 ]
	check "the report has the whole timeline" sh -c "nvwa report --json | grep -q '\"kexec-jump\"'"
	check "nvwa status shows the region" sh -c "nvwa status --json | grep -q '\"pinmem\": {\"state\": \"valid\"'"
	check "no kernel warning" kernel_clean
	send_report
}
