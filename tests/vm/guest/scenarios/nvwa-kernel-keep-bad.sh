# The list of kept pages does not check out in the next kernel: it keeps
# nothing, says why, and nvwa never restores an application whose memory
# was kept (its images hold none of it: it would run with that memory
# zeroed) while the rest of the update goes on.  Three updates between
# nvwa kernels (run-vm -K), each with two applications: "kept" (memory
# kept in place) and "copied" (--copy-memory=PID: CRIU copies it), the
# sealed list spoilt by the fault build as the next kernel reads it: the
# head's magic, the first list page's checksum, the head's checksum.
# After each kexec: the kernel's log names the failed check and that
# nothing was kept; the kept application is failed with that reason in
# the restore's output, the record and `nvwa status`, never running;
# `nvwa restore --retry` and `nvwa restore-app` refuse it; the copied
# one runs, verified byte for byte; the frames were not reserved (free
# memory as before the applications started); no kernel warning.
# vm: -K -t 1500
# needs: nvwa-kernel

# Free memory with the page cache dropped, in MiB.
free_mib() {
	sync
	echo 3 > /proc/sys/vm/drop_caches
	awk '$1 == "MemFree:" { print int($2 / 1024) }' /proc/meminfo
}

# update_spoilt FAULT: both applications, the list spoilt by FAULT after
# its seal.  Returns only by failing.
update_spoilt() {
	local kept copied
	read -r kept copied < /disk/state/test/pids
	NVWA_FAULT=$1 nvwa-fault update --kernel /boot/vmlinuz-nvwa --initrd /boot/initrd.img \
		--app "$kept" --app "$copied" --copy-memory="$copied" \
		> /disk/data/update.log 2>&1
	fatal "nvwa update returned ($?) instead of rebooting: $(tail -n 5 /disk/data/update.log)"
}

# start_kept_app: a new "kept" application next to the running "copied".
start_kept_app() {
	local kept copied
	read -r kept copied < /disk/state/test/pids
	kept=$(start_app kept --mem 384)
	wait_ready kept 300
	echo "$kept $copied" > /disk/state/test/pids
}

# after_spoilt WHAT KERNEL-SAYS: the checks after the kexec.
after_spoilt() {
	local what=$1 says=$2 kept copied
	read -r kept copied < /disk/state/test/pids
	report_file update /disk/data/update.log
	report_file restore /tmp/restore.log
	dmesg | grep 'nvwa.keep' > /tmp/keep-dmesg.log
	report_file dmesg /tmp/keep-dmesg.log
	check "$what: the update had kept one's memory, copied the other's" sh -c \
		"grep -q 'MiB kept in place' /disk/data/update.log &&
		 grep -q 'memory of $copied: copied by CRIU' /disk/data/update.log"
	check "$what: this kernel was named the list" grep -q " nvwa.keep=0x" /proc/cmdline
	check "$what: the kernel says why: $says" grep -q "nvwa.keep: $says" /tmp/keep-dmesg.log
	check "$what: and that it kept nothing" grep -q "nvwa.keep: nothing kept" /tmp/keep-dmesg.log
	check "$what: no frame was kept" not grep -q "kept for the restore" /tmp/keep-dmesg.log
	check "$what: nvwa restore failed" not restore_ok
	check "$what: it said why for PID $kept, and that its memory is lost" grep -q \
		"Restore of $kept (.*) not tried: its memory (38[45] MiB, kept in place) was not handed to this kernel: .*$says.*; that memory is lost" \
		/tmp/restore.log
	check "$what: PID $kept is not running (never with zeroed memory)" not app_alive "$kept"
	check "$what: the record says it failed, with the kernel's reason" report_is \
		--argjson p "$kept" --arg s "$says" \
		'.apps[] | select(.pid == $p) | .state == "failed" and .memory == "kept" and (.error | test($s))'
	check "$what: nvwa status says so" status_is --argjson p "$kept" \
		'.last_update.apps[] | select(.pid == $p) | .state == "failed" and (.error | contains("not handed to this kernel"))'
	app_came_back "$copied" copied "$what: copied: "
	check "$what: the record says its memory was copied and it is back" report_is \
		--argjson p "$copied" '.apps[] | select(.pid == $p) | .state == "restored" and .memory == "copied"'
	nvwa restore --retry > /tmp/retry.log 2>&1
	echo "$?" > /tmp/retry.rc
	report_file retry /tmp/retry.log
	check "$what: --retry refuses it again, saying why" sh -c \
		"[ \$(cat /tmp/retry.rc) != 0 ] && grep -q 'Restore of $kept .*not handed to this kernel.*memory is lost' /tmp/retry.log"
	check "$what: ... and has not restored it" not app_alive "$kept"
	check "$what: ... nor touched the copied one" sh -c \
		"! grep -q 'restoring $copied' /tmp/retry.log && kill -0 $copied"
	nvwa restore-app -D /run/nvwa/store/gen-*/"$kept"/dump > /tmp/restore-app.log 2>&1
	echo "$?" > /tmp/restore-app.rc
	report_file restore-app /tmp/restore-app.log
	check "$what: nvwa restore-app refuses its images, which lack its memory" sh -c \
		"[ \$(cat /tmp/restore-app.rc) != 0 ] && grep -q 'kept this application.s memory in place' /tmp/restore-app.log"
	check "$what: ... and has not restored it" not app_alive "$kept"
	check "$what: nothing is waiting in the kept module" status_is \
		'.kept.state == "idle" and .kept.kept == 0'
	# The 384 MiB of "kept" were never reserved; "copied" (64 MiB) runs.
	report "free: $(free_mib) MiB, $(cat /disk/state/test/free) before the applications"
	check "$what: the frames are free memory, as on a normal boot" \
		[ "$(free_mib)" -ge $(( $(cat /disk/state/test/free) - 192 )) ]
	check "$what: no kernel warning" kernel_clean
	# The failed update stays in the store until erased.
	store_format
}

main() {
	case $1 in
	1)
		check "this is the nvwa kernel" sh -c 'uname -r | grep -q -- "-nvwa$"'
		free_mib > /disk/state/test/free
		store_format
		copied=$(start_app copied --mem 64)
		wait_ready copied 300
		echo "0 $copied" > /disk/state/test/pids
		start_kept_app
		update_spoilt keep-head-magic
		;;
	2)
		after_spoilt "bad magic" "no keep head there"
		start_kept_app
		update_spoilt keep-list-crc
		;;
	3)
		after_spoilt "bad list checksum" "list page 0 at .* fails its checks"
		start_kept_app
		update_spoilt keep-head-crc
		;;
	4)
		after_spoilt "bad head checksum" "the keep head fails its checksum"
		finish
		;;
	*)
		fatal "unexpected boot $1"
		;;
	esac
}
