# shellcheck shell=bash
# fix_lib.sh: QuickFIX's example acceptors for the test_fix_*.sh integration tests,
# built at test time from the sources Debian ships in libquickfix-doc (nothing of
# QuickFIX is in our tree). Needs TE_BUILD_DIR, RUN and a `fail` function.
#
#   qfx_build NAME     build example NAME (executor, ordermatch) into
#                      $TE_BUILD_DIR/qfx_NAME once (again when the installed sources
#                      change); sets QFX_BIN
#   qfx_start NAME [BEGIN SENDER TARGET]
#                      write RUN/NAME.cfg (default FIX.4.4, SenderCompID EXECUTOR,
#                      TargetCompID TE, FileStore in RUN/NAME.store) and start it on a
#                      free port; sets QFX_PORT and QFX_PID (log RUN/NAME.log). Its
#                      stdin is $QFX_STDIN when set (ordermatch reads commands there
#                      and spins on end of file: give it a FIFO held open)

qfx_build() {
        local name=$1 ex=/usr/share/doc/libquickfix-doc/examples/$1/C++ dir stamp
        [ -d "$ex" ] || ex=/usr/share/doc/libquickfix-doc/examples/$1 # ordermatch
        [ -f "$ex/$name.cpp" ] && [ -f /usr/include/quickfix/Session.h ] ||
                fail "QuickFIX not installed: ops/install-deps (libquickfix-dev, libquickfix-doc)"
        command -v g++ >/dev/null || fail "g++ is required"
        dir=$TE_BUILD_DIR/qfx_$name
        # one build at a time per example: test_fix_executor and test_fix_pipeline both
        # build executor into the same directory, and side by side on a fresh build dir
        # one would delete the other's sources while g++ read them (the lock goes with
        # the shell that holds it, also when fail exits)
        local lock
        exec {lock}>"$dir.lock"
        flock "$lock"
        # (ordermatch's directory has a subdirectory: cat fails on it)
        stamp=$( (cat "$ex"/* 2>/dev/null || true) | md5sum | cut -d' ' -f1)
        if [ ! -x "$dir/$name" ] || [ "$(cat "$dir/stamp" 2>/dev/null)" != "$stamp" ]; then
                rm -rf "$dir" && mkdir -p "$dir"
                cp "$ex"/*.cpp "$ex"/*.h "$dir/" 2>/dev/null || true
                for z in "$ex"/*.cpp.gz; do
                        [ -e "$z" ] && zcat "$z" >"$dir/$(basename "$z" .gz)"
                done
                : >"$dir/config.h" # the examples include the autotools config header
                # C++14: the examples still have dynamic exception specifications
                g++ -std=c++14 -w -O1 -I"$dir" -o "$dir/$name" "$dir"/*.cpp -lquickfix \
                        -lpthread >"$RUN/gxx-$name.log" 2>&1 ||
                        fail "building $name failed: $(tail -n 5 "$RUN/gxx-$name.log")"
                echo "$stamp" >"$dir/stamp"
        fi
        exec {lock}>&-
        QFX_BIN=$dir/$name
}

qfx_start() {
        local name=$1 begin=${2:-FIX.4.4} sender=${3:-EXECUTOR} target=${4:-TE}
        QFX_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        mkdir -p "$RUN/$name.store"
        cat >"$RUN/$name.cfg" <<CFG
[DEFAULT]
ConnectionType=acceptor
SocketAcceptPort=$QFX_PORT
SocketReuseAddress=Y
FileStorePath=$RUN/$name.store
StartTime=00:00:00
EndTime=00:00:00
UseDataDictionary=N
SenderCompID=$sender

[SESSION]
BeginString=$begin
TargetCompID=$target
CFG
        "$QFX_BIN" "$RUN/$name.cfg" <"${QFX_STDIN:-/dev/null}" >"$RUN/$name.log" 2>&1 &
        QFX_PID=$!
}
