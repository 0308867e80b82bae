#!/bin/bash -eu
# ClusterFuzzLite calls this with $CC, $CFLAGS, $LIB_FUZZING_ENGINE, $OUT
# and $SRC set; fuzz/build.sh does the work.
exec bash "$SRC/relaypolicy/fuzz/build.sh"
