# Benchmark: `nvwa checkpoint --pin-memory` + `nvwa restore-app` on the
# nvwa kernel, the process's nvwa.mem= MiB of anonymous memory kept in
# place, against plain CRIU (the same commands without --pin-memory: criu
# dump writes the memory into the images, criu restore reads it back), in
# the same VM, images on the VM's disk.  No pre-dump in either, so both
# freeze for the whole dump.  Times are nvwa's own (checkpoint: from the
# freeze to the end of the dump; restore: until the process runs, its
# memory back); bytes are the images written.
MEM=$(cmdline_value nvwa.mem)

main() {
	mkdir -p /disk/bench
	# CRIU's first run in a boot pays for loading it: neither path measures that.
	ckpt_measure warm /disk/bench/warm "" --mem 1
	ckpt_measure kept /disk/bench/kept --pin-memory --mem "$MEM"
	check "kept: the memory stayed in place" json_is /tmp/kept-ckpt.json '.anon_memory == "kept"'
	check "kept: nothing copied back" json_is /tmp/kept-rest.json '.copied_pages == 0'
	ckpt_measure plain /disk/bench/plain "" --mem "$MEM"
	finish
}
