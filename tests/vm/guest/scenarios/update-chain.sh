# vm: -r 192M@1536M
# Scenario 3: three updates in a row in one VM; the second and third start
# from a kernel that was itself kexec'd, and the application is restored
# by one kernel and checkpointed again by the next.  The second update
# asks for a lazy restore: the application runs before its memory is back.
# The first update goes from one Debian kernel build to the next, the
# others from that build to itself.  The records live in pinmem, but for
# the third update the new kernel's pinmem module is missing: its record
# goes to the store, and the update says why.
UPDATE_KERNEL=$NEW_KERNEL
dashboard_has_every_phase() {
	local p
	for p in $(report_value '.phases[].name'); do
		grep -q "data-name=\"$p\"" /tmp/dashboard.html || return 1
	done
}
# restored_all UPDATE...: each update's report says restored.
restored_all() {
	local g
	for g in "$@"; do
		nvwa report --json --update "$g" | jq -e '.outcome == "restored"' > /dev/null || return 1
	done
}
main() {
	local pid
	if [ "$1" = 1 ]; then
		check "pinmem formatted" nvwa pinmem format
		start_and_update app --mem 128
	fi
	pid=$(app_pid)
	check "boot $1: nvwa restore succeeded" restore_ok
	app_came_back "$pid" app "boot $1: "
	[ "$1" = 2 ] && across_builds "boot 2: "
	check "boot $1: the newer build runs" [ "$(uname -r)" = "$NEW_KVER" ]
	check "boot $1: report of update $(( $1 - 1 )) kept" \
		[ -f "/var/lib/nvwa/updates/$(( $1 - 1 )).dtb" ]
	if [ "$1" = 3 ]; then
		check "boot 3: memory was served on demand" grep -q 'memory on demand' /tmp/restore.log
		check "boot 3: the lazy copy finished before the images went" has_phase lazy-pages
	fi
	if [ "$1" = 2 ] || [ "$1" = 3 ]; then
		check "boot $1: the record came from pinmem" \
			grep -q "Handover record: /run/pinmem/nvwa.handover" /tmp/restore.log
	fi
	if [ "$1" -lt 4 ]; then
		[ "$1" = 2 ] && UPDATE_ARGS=--lazy-restore || UPDATE_ARGS=
		[ "$1" = 3 ] && mv "/lib/modules/$NEW_KVER/extra/pinmem.ko" /tmp/
		update_reboot "$pid"
	fi
	check "update 3 said why its record went to the store" \
		grep -q "The new kernel cannot read pinmem ($NEW_KVER has no pinmem module" /disk/data/update.log
	check "and the record came from the store" \
		grep -q "Handover record: /run/nvwa/store/handover.dtb" /tmp/restore.log
	check "three reports, all restored" restored_all 1 2 3
	# Timings are not asserted: the comparison must run and judge (0 or 1).
	nvwa report --compare 1 3 > /tmp/compare.log 2>&1
	check "report --compare judges two real updates" \
		sh -c "[ $? -le 1 ] && grep -q '^  downtime' /tmp/compare.log"
	nvwa report --html /tmp/dashboard.html > /tmp/html.log 2>&1
	check "the dashboard draws every phase" dashboard_has_every_phase
	check "and the three updates' history" [ "$(grep -o 'class="hist"' /tmp/dashboard.html | wc -l)" = 3 ]
	send_report
}
