# A process tree on the nvwa kernel's kept path: a parent with 32 MiB of
# its own, two children with 16 MiB each of their own (each its own
# pattern), and 8 MiB of MAP_SHARED|MAP_ANONYMOUS memory all three map.
# Updated from the nvwa kernel to the nvwa kernel: every process comes
# back on its PID and verifies its own memory byte for byte, the children
# through the region they still share with their parent.  The private
# memory of all three was kept in place and went back without a copy; the
# shared region was not (the kernel keeps private pages only): CRIU
# copied it, and nvwa said so in its output and in the record.
# vm: -K -t 900
# needs: nvwa-kernel

CHILDREN=2
kids() { cat /disk/state/test/kids; }
# Every child of the tree runs, on the PID it had.
kids_alive() {
	local k
	[ "$(wc -w < /disk/state/test/kids)" = "$CHILDREN" ] || return 1
	for k in $(kids); do app_alive "$k" || return 1; done
}
# The restore gave each child at least its 16 MiB (4096 pages), copying none.
kids_given() {
	local k n
	for k in $(kids); do
		n=$(sed -n "s/.*process $k: \([0-9]*\) pages back in place, 0 copied$/\1/p" /tmp/restore.log)
		[ -n "$n" ] && [ "$n" -ge 4096 ] || return 1
	done
}
# The children of PID are the ones it had before the update.
same_kids() { [ "$(cat /proc/"$1"/task/*/children | tr ' ' '\n' | sort -n | xargs)" = "$(kids)" ]; }

main() {
	local pid
	pid=$(app_pid 2>/dev/null)
	case $1 in
	1)
		check "this is the nvwa kernel" sh -c 'uname -r | grep -q -- "-nvwa$"'
		store_format
		start_kept app --mem 32 --children "$CHILDREN" --child-mem 16 --shared-mem 8
		pid=$(app_pid)
		cat /proc/"$pid"/task/*/children | tr ' ' '\n' | sort -n | xargs > /disk/state/test/kids
		report "tree: parent $pid, children $(kids)"
		check "the parent and its $CHILDREN children verify their memory" \
			app_verify_tree "$pid" app "$CHILDREN"
		update_reboot_to /boot/vmlinuz-nvwa "$pid"
		;;
	2)
		report_file update /disk/data/update.log
		report_file restore /tmp/restore.log
		check "the nvwa kernel again" sh -c 'uname -r | grep -q -- "-nvwa$"'
		check "nvwa update said the shared memory is CRIU's to copy" \
			grep -q "private pages only, CRIU copies what is shared" /disk/data/update.log
		check "and how much of it the tree has: 8 MiB" \
			grep -q "(nvwa-testapp): left to CRIU, which copies it: .* 8192 KiB of shared anonymous memory" \
			/disk/data/update.log
		check "the private memory of all three processes was taken" \
			grep -q "(nvwa-testapp): [0-9]* MiB kept in place (.*), from 3 processes" /disk/data/update.log
		check "nvwa restore succeeded" restore_ok
		check "the parent, PID $pid, runs again" app_alive "$pid"
		check "so do its children, $(kids)" kids_alive
		check "they are its children still" same_kids "$pid"
		check "each process verified its own memory byte for byte, the children the shared region too" \
			app_verify_tree "$pid" app "$CHILDREN"
		check "the parent's counter continued without a gap" app_counter_continuous app
		check "the record says the memory was kept" report_is '.apps[0].memory == "kept"'
		# 32 + 2 x 16 MiB of private memory: the children's pages too.
		check "at least 64 MiB of it, the children's included" report_is '.apps[0].kept_pages >= 16384'
		check "every kept page went back in place, none copied" report_is \
			'.apps[0].installed_pages == .apps[0].kept_pages and .apps[0].copied_pages == 0'
		check "each child got its 16 MiB back in place, none copied" kids_given
		check "the record says 8 MiB of shared anonymous memory was left to CRIU" \
			report_is '.apps[0].shared_pages == 2048'
		# 64 MiB if the private memory had been copied too.
		check "CRIU copied it and little else: the dump wrote 8 to 12 MiB" \
			report_is '.apps[0].image_bytes >= 8388608 and .apps[0].image_bytes < 12582912'
		check "nvwa report says where the memory went" sh -c \
			'nvwa report | grep -q "memory kept in place: .* 2048 pages of shared anonymous memory"'
		check "the parent's memory behaves as its own" app_anoncheck "$pid" app
		check "no kernel warning" kernel_clean
		grep '^verify\|^anoncheck' /disk/data/app.log | while read -r l; do report "app $l"; done
		send_report
		;;
	*)
		fatal "unexpected boot $1"
		;;
	esac
}
