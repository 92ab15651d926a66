# Benchmark: `nvwa checkpoint --pin-memory` + `nvwa restore-app` on the
# nvwa kernel, the process's nvwa.mem= MiB of anonymous memory kept in
# place, against plain CRIU (the same commands without --pin-memory: criu
# dump writes the memory into the images, criu restore reads it back), in
# the same VM, images on the VM's disk.  No pre-dump in either, so both
# freeze for the whole dump.  Times are nvwa's own (checkpoint: from the
# freeze to the end of the dump; restore: until the process runs, its
# memory back); bytes are the images written.
MEM=$(cmdline_value nvwa.mem)

measure() {	# measure NAME DIR MIB [--pin-memory]: checkpoint, restore, verify
	local name=$1 dir=$2 mib=$3 pid
	shift 3
	pid=$(start_app "$name" --mem "$mib")
	wait_ready "$name" 600
	nvwa checkpoint "$@" --no-pre-dump --json "$pid" -D "$dir" > "/tmp/$name-ckpt.json" 2> "/tmp/$name-ckpt.log" ||
		fatal "$name: checkpoint failed: $(cat "/tmp/$name-ckpt.log")"
	sync
	metric "${name}_checkpoint_ms" "$(jq -r '.freeze_ms // empty' "/tmp/$name-ckpt.json")"
	metric "${name}_image_bytes" "$(img_bytes "$dir")"
	echo 3 > /proc/sys/vm/drop_caches
	nvwa restore-app --json -D "$dir" > "/tmp/$name-rest.json" 2> "/tmp/$name-rest.log" ||
		fatal "$name: restore failed: $(cat "/tmp/$name-rest.log")"
	metric "${name}_restore_ms" "$(jq -r '.running_ms // empty' "/tmp/$name-rest.json")"
	check "$name: restored and verified" app_verify "$pid" "$name"
	kill -9 "$pid"
	wait_for 30 not app_alive "$pid"
}

main() {
	mkdir -p /disk/bench
	# CRIU's first run in a boot pays for loading it: neither path measures that.
	measure warm /disk/bench/warm 1
	measure kept /disk/bench/kept "$MEM" --pin-memory
	check "kept: the memory stayed in place" json_is /tmp/kept-ckpt.json '.anon_memory == "kept"'
	check "kept: nothing copied back" json_is /tmp/kept-rest.json '.copied_pages == 0'
	measure plain /disk/bench/plain "$MEM"
	finish
}
