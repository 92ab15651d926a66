# `nvwa checkpoint --pin-memory` on the nvwa kernel keeps a process's
# anonymous memory where it is, and `nvwa restore-app` maps it back, in
# the same kernel and after a kexec.  Boot 1 (run-vm -K): an application
# with 256 MiB of anonymous memory, most of it in transparent huge pages.
# A dump that fails after its pages were taken (nvwa's fault build) gives
# them back: it runs on, verified.  Then a checkpoint: images under
# 1 MiB, the process gone, the kernel holding its frames; restore-app in
# the same kernel: every page back in place, none copied, huge pages huge
# again, every byte verified, the memory behaving as its own.  A second
# checkpoint, then an update to the nvwa kernel with no application: the
# checkpoint's frames are handed over too.  Boot 2: an update to Debian's
# kernel, which could not take them, is refused; restore-app after the
# kexec brings the process back, verified; a third checkpoint freed with
# --drop-memory cannot be restored, and says so; a process tree's
# private memory is kept for each of its processes, its shared region
# copied by CRIU; a restore into a memory cgroup too small for it fails
# cleanly, its frames back to the system.
# vm: -K -t 1200
# needs: nvwa-kernel

MIB=256

huge_back() { [ "$(anon_huge_kb "$1")" -ge "$(cat /disk/state/test/huge)" ]; }
small_images() { [ "$(img_bytes "$1")" -lt 1048576 ]; }
shared_only() { local b; b=$(img_bytes "$1"); [ "$b" -ge 8388608 ] && [ "$b" -lt 12582912 ]; }
held_mib() { nvwa status --json | jq -r '.kept.held // 0' | awk '{ print int($1 / 256) }'; }
held_none() { [ "$(held_mib)" = 0 ]; }
available_kb() { awk '$1 == "MemAvailable:" { print $2 }' /proc/meminfo; }
# As much available as before the process started, give or take 16 MiB.
memory_back() { [ "$(available_kb)" -ge $(($(cat /tmp/avail) - 16384)) ]; }
held_all() { [ "$(held_mib)" -ge "$MIB" ]; }

restored_in_place() {	# JSON-FILE
	json_is "$1" '.anon_memory == "kept"' &&
		json_is "$1" ".installed_pages >= $((MIB * 256)) and .copied_pages == 0"
}

boot1() {
	local pid
	check "this is the nvwa kernel" sh -c 'uname -r | grep -q -- "-nvwa$"'
	check "nvwa status: pin-anon yes" sh -c 'nvwa status | grep -q "pin-anon *yes"'
	store_format
	mkdir -p /disk/ckpt
	echo always > /sys/kernel/mm/transparent_hugepage/enabled
	start_kept app --mem "$MIB"
	pid=$(app_pid)
	anon_huge_kb "$pid" > /disk/state/test/huge
	report "AnonHugePages before: $(cat /disk/state/test/huge) kB"
	check "most of its memory is in huge pages" sh -c '[ "$(cat /disk/state/test/huge)" -ge 131072 ]'

	check "a checkpoint whose dump fails after the memory was taken fails" sh -c \
		"! NVWA_FAULT=checkpoint-dump nvwa-fault checkpoint --pin-memory $pid -D /disk/ckpt/failed > /tmp/failed.log 2>&1"
	report_file failed /tmp/failed.log
	check "  it had taken the memory" grep -q "MiB of anonymous memory kept in place" /tmp/failed.log
	check "  and gave it back in place" grep -q "its memory went back in place" /tmp/failed.log
	check "  PID $pid runs on" app_alive "$pid"
	check "  not stopped" not_stopped "$pid"
	check "  every byte verified" app_verify "$pid" app
	check "  the kernel holds nothing for it" held_none

	check "nvwa checkpoint --pin-memory" sh -c \
		"nvwa checkpoint --pin-memory --json $pid -D /disk/ckpt/c1 > /tmp/c1.json 2> /tmp/c1.log"
	report_file checkpoint /tmp/c1.log
	check "  kept its anonymous memory in place" json_is /tmp/c1.json '.anon_memory == "kept"'
	check "  all $MIB MiB of it" json_is /tmp/c1.json ".anon_kept_bytes >= $((MIB << 20))"
	check "  the images hold under 1 MiB ($(img_bytes /disk/ckpt/c1) bytes)" small_images /disk/ckpt/c1
	metric ckpt_pin_image_bytes "$(img_bytes /disk/ckpt/c1)"
	metric ckpt_pin_freeze_ms "$(jq -r .freeze_ms /tmp/c1.json)"
	check "  the process is gone (a dump ends it)" not app_alive "$pid"
	check "  nvwa status shows the memory held for it" held_all

	check "nvwa restore-app in the same kernel" sh -c \
		"nvwa restore-app --json -D /disk/ckpt/c1 > /tmp/r1.json 2> /tmp/r1.log"
	report_file restore-app /tmp/r1.log
	check "  with the same PID" json_is /tmp/r1.json ".pid == $pid"
	check "  every page back in place, none copied" restored_in_place /tmp/r1.json
	metric ckpt_pin_restore_ms "$(jq -r .running_ms /tmp/r1.json)"
	check "  every byte verified" app_verify "$pid" app
	check "  the counter went on" app_counter_continuous app
	report "AnonHugePages after: $(anon_huge_kb "$pid") kB"
	check "  its huge pages are huge again (smaps AnonHugePages)" huge_back "$pid"
	check "  its memory behaves as its own (smaps, fork, MADV_DONTNEED, mremap, munmap)" \
		app_anoncheck "$pid" app
	check "  the kernel holds nothing any more" held_none
	check "  a second restore of the same checkpoint is refused" sh -c \
		"! nvwa restore-app -D /disk/ckpt/c1 > /tmp/r1b.log 2>&1 && grep -q 'keeps no memory for PID' /tmp/r1b.log"

	check "a second checkpoint, kept across the next update" \
		sh -c "nvwa checkpoint --pin-memory $pid -D /disk/ckpt/c2 > /tmp/c2.log 2>&1"
	check "no kernel warning" kernel_clean
	nvwa update --kernel /boot/vmlinuz-nvwa --initrd /boot/initrd.img > /disk/data/update.log 2>&1
	fatal "nvwa update returned ($?) instead of rebooting: $(tail -n 5 /disk/data/update.log)"
}

boot2() {
	local pid
	pid=$(app_pid)
	report_file update /disk/data/update.log
	check "the update handed the checkpoint's memory over" grep -q "checkpoints' memory: .* handed over too" \
		/disk/data/update.log
	check "the kernel kept the frames from its first allocation" sh -c \
		'dmesg | grep -q "nvwa.keep: [0-9]* frames in [0-9]* runs kept for the restore"'
	check "an update to Debian's kernel is refused: it would lose them" sh -c \
		"! nvwa update --kernel /boot/vmlinuz --initrd /boot/initrd.img > /tmp/refused.log 2>&1 && grep -q 'would be lost' /tmp/refused.log"
	check "  the module says what it holds" held_all
	check "nvwa restore-app after the kexec" sh -c \
		"nvwa restore-app --json -D /disk/ckpt/c2 > /tmp/r2.json 2> /tmp/r2.log"
	report_file restore-app /tmp/r2.log
	check "  with the same PID" app_alive "$pid"
	check "  every page back in place, none copied" restored_in_place /tmp/r2.json
	check "  every byte verified" app_verify "$pid" app
	check "  its memory behaves as its own" app_anoncheck "$pid" app

	check "a third checkpoint" sh -c "nvwa checkpoint --pin-memory $pid -D /disk/ckpt/c3 > /tmp/c3.log 2>&1"
	img_sums /disk/ckpt/c3 > /tmp/c3.sums
	check "restore-app --drop-memory frees its memory" sh -c \
		"nvwa restore-app --drop-memory -D /disk/ckpt/c3 > /tmp/drop.log 2>&1 && grep -q 'freed $MIB' /tmp/drop.log"
	check "  the kernel holds nothing any more" held_none
	check "  a restore is refused, saying why" sh -c \
		"! nvwa restore-app -D /disk/ckpt/c3 > /tmp/r3.log 2>&1 && grep -q 'keeps no memory for PID' /tmp/r3.log"
	check "  leaving no process behind" not app_alive "$pid"
	check "  and the images untouched" sums_are /disk/ckpt/c3 /tmp/c3.sums

	# A tree: each process's private memory kept for it, the shared
	# region copied by CRIU.
	start_kept tree --mem 32 --children 2 --child-mem 16 --shared-mem 8
	pid=$(cat /disk/state/test/pid)
	check "a process tree: nvwa checkpoint --pin-memory" sh -c \
		"nvwa checkpoint --pin-memory --json $pid -D /disk/ckpt/tree > /tmp/t.json 2> /tmp/t.log"
	report_file tree-checkpoint /tmp/t.log
	check "  the kernel keeps memory for all three processes" \
		sh -c '[ "$(grep -c "^pid [0-9]* frames [0-9]*$" /disk/ckpt/tree/nvwa-held)" = 3 ]'
	check "  the images hold the 8 MiB shared region, not the private memory ($(img_bytes /disk/ckpt/tree) bytes)" \
		shared_only /disk/ckpt/tree
	check "  nvwa restore-app" sh -c "nvwa restore-app --json -D /disk/ckpt/tree > /tmp/rt.json 2> /tmp/rt.log"
	report_file tree-restore /tmp/rt.log
	check "  nothing copied back" json_is /tmp/rt.json '.copied_pages == 0 and .installed_pages >= 16384'
	check "  each process verified its memory, the children the shared region too" \
		app_verify_tree "$pid" tree 2
	kill -9 "$pid"

	# A restore whose memory cgroup refuses the charge: a huge page's
	# frames go back to the kept set after the compound page was made
	# (the unprep path), the process is killed rather than run with
	# holes, and nothing leaks.
	mount -t cgroup2 none /sys/fs/cgroup
	echo +memory > /sys/fs/cgroup/cgroup.subtree_control
	mkdir -p /sys/fs/cgroup/small
	wait_for 30 not app_alive "$pid"
	available_kb > /tmp/avail
	echo $$ > /sys/fs/cgroup/small/cgroup.procs
	start_kept small --mem 64
	echo $$ > /sys/fs/cgroup/cgroup.procs
	pid=$(cat /disk/state/test/pid)
	check "a checkpoint of a process in a memory cgroup" sh -c \
		"nvwa checkpoint --pin-memory $pid -D /disk/ckpt/small > /tmp/small-c.log 2>&1"
	echo 16M > /sys/fs/cgroup/small/memory.max
	check "restore-app into the cgroup, now too small for its memory, fails" sh -c \
		"! nvwa restore-app -D /disk/ckpt/small > /tmp/small.log 2>&1"
	report_file small /tmp/small.log
	check "  saying its memory did not all go back" grep -q "did not all go back" /tmp/small.log
	check "  leaving no process behind" wait_for 30 not app_alive "$pid"
	check "  the kernel holds nothing for it" held_none
	check "  its memory went back to the system" wait_for 30 memory_back
	check "no kernel warning" kernel_clean
	finish
}

main() {
	case $1 in
	1) boot1 ;;
	2) boot2 ;;
	*) fatal "unexpected boot $1" ;;
	esac
}
