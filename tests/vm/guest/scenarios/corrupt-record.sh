# Scenario 6: the handover record is corrupted after the reboot.  Restore
# refuses it, says why and keeps the images; a second plain restore will
# not act on it; once the record is repaired `nvwa restore --retry` brings
# the application back.
RECORD=/run/nvwa/store/handover.dtb
flip_byte() {	# flip_byte FILE OFFSET: XOR one byte with 0xff
	local v
	v=$(dd if="$1" bs=1 skip="$2" count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
	# shellcheck disable=SC2059
	printf "$(printf '\\%03o' $(( v ^ 255 )))" |
		dd of="$1" bs=1 seek="$2" count=1 conv=notrunc 2>/dev/null
}
pre_restore() {
	[ "$1" = 2 ] || return 0
	nvwa store status > /dev/null || fatal "store not mountable"
	local size
	size=$(wc -c < "$RECORD")
	echo $(( size / 2 )) > /disk/state/test/offset
	flip_byte "$RECORD" "$(cat /disk/state/test/offset)"
	report "corrupted byte $(cat /disk/state/test/offset) of $size"
}
main() {
	local pid
	case $1 in
	1)
		start_and_update app --mem 64
		;;
	2)
		pid=$(app_pid)
		check "restore refused the record" [ "$(cat /tmp/restore.rc)" != 0 ]
		check "and said why" grep -q 'handover.dtb refused: ' /tmp/restore.log
		check "and told what to do" grep -q 'restore --retry' /tmp/restore.log
		check "the application was not restored" sh -c "! kill -0 $pid"
		check "the images are kept" [ -d /run/nvwa/store/gen-1/"$pid"/dump ]
		check "the reason is kept" grep -q 'record refused' /run/nvwa/store/restore-refused
		check "a second plain restore will not act" sh -c \
			"! nvwa restore > /tmp/again.log 2>&1 && grep -q 'already failed' /tmp/again.log"
		check "nvwa status shows the bad record" sh -c "nvwa status | grep -q 'does not check out'"
		check "and so does its JSON" status_is '.pending.state == "invalid"'
		flip_byte "$RECORD" "$(cat /disk/state/test/offset)"
		check "after the repair, restore --retry succeeds" sh -c \
			"nvwa restore --retry > /tmp/retry.log 2>&1"
		cat /tmp/retry.log
		app_came_back "$pid" app
		check "the store was cleaned up" [ ! -e "$RECORD" ]
		send_report
		;;
	*)
		fatal "unexpected boot $1"
		;;
	esac
}
