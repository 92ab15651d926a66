# vm: -R
# The new kernel crashes after the handover, before the restore: it
# panics (panic=-1 resets at once), the machine resets with its RAM kept
# (QEMU, like a warm reset), and the old kernel boots again from its own
# command line, which names no update.  Its restore hook finds the update
# in the store, never restored, and restores the application there,
# verified byte for byte; the report says what happened.
pre_restore() {
	[ "$1" = 2 ] || return 0
	report "boot 2: crashing the new kernel before its restore"
	sync
	echo c > /proc/sysrq-trigger
}
main() {
	local pid
	case $1 in
	1)
		start_and_update app --mem 64
		;;
	3)
		pid=$(app_pid)
		check "this boot names no update" [ -z "$(cmdline_value nvwa.handover)" ]
		check "the restore hook found the update and restored it" restore_ok
		check "and said why it acted" grep -q 'not started by nvwa update, yet /dev/pmem0 holds update 1, never restored' /tmp/restore.log
		app_came_back "$pid" app
		check "the report says restored" report_is '.outcome == "restored"'
		check "the store was cleaned up" [ ! -e /run/nvwa/store/handover.dtb ]
		check "a boot with nothing pending does nothing" sh -c \
			"nvwa restore --if-pending > /tmp/nothing.log 2>&1 && grep -q 'No update to restore' /tmp/nothing.log"
		send_report
		;;
	*)
		fatal "unexpected boot $1"
		;;
	esac
}
