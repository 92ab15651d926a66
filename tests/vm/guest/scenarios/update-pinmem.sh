# vm: -r 192M@1536M
# With the pinmem module serving a region, the handover record (and the
# timeline in it) lives in pinmem, not in the store: written there before
# the kexec, found there by the restore, removed once the update is done.
# The application keeps 64 MiB in a pinmem area mapped from /dev/pinmem:
# nvwa update carries it across by reference (CRIU and nvwa's plugin),
# and the restored process maps the same RAM.  The update goes from one
# Debian kernel build to the next; first it is tried without a pinmem
# module for the newer build, and refused before anything is frozen.
UPDATE_KERNEL=$NEW_KERNEL

# refused_without_module PID: the newer build's pinmem.ko hidden, the
# update refuses, names the release and what to install; PID ran on.
refused_without_module() {
	local ko="/lib/modules/$NEW_KVER/extra/pinmem.ko"
	mv "$ko" /tmp/pinmem.ko.hidden
	update_apps "$1" > /dev/null
	mv /tmp/pinmem.ko.hidden "$ko"
	cp /disk/data/update.log /disk/data/refused.log
	check "no pinmem module for $NEW_KVER: the update refuses, exit 1" \
		[ "$(cat /tmp/update.rc)" = 1 ]
	check "it names the release and the package that builds the module" \
		grep -q "Install pinmem for $NEW_KVER (the nvwa-pinmem-dkms package" /disk/data/refused.log
	check "nothing was frozen" grep -q "before any application was frozen" /disk/data/refused.log
	check "the application was never stopped" not_stopped "$1"
	check "it runs on with its pinned area" app_verify_pinned "$1" app $((64 << 20))
	check "it keeps counting" app_progresses app
	check "no handover record was left" [ ! -e /run/pinmem/nvwa.handover ]
	check "no kernel is loaded" [ "$(cat /sys/kernel/kexec_loaded)" = 0 ]
}

main() {
	local pid
	if [ "$1" = 1 ]; then
		check "pinmem formatted" nvwa pinmem format
		store_format
		start_kept app --mem 64 --pinmem app-pin:64
		refused_without_module "$(app_pid)"
		update_reboot "$(app_pid)"
	fi
	pid=$(app_pid)
	check "nvwa restore succeeded" restore_ok
	across_builds
	check "the update found the newer build's pinmem module" \
		grep -q "pinmem: $NEW_KVER has a module for region format" /disk/data/update.log
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
