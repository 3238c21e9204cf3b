#!/usr/bin/env bash
# create-topics.sh: create the execution service's topics on a real Kafka cluster from
# ops/topics.manifest (`<topic> <partitions>` per line) with the standard Kafka CLI.
#
#   ops/deploy/create-topics.sh BOOTSTRAP [REPLICATION_FACTOR]
#
# Environment:
#   KAFKA_TOPICS       the CLI (default: kafka-topics.sh; Confluent packages: kafka-topics)
#   COMMAND_CONFIG     a client properties file for a secured cluster (SASL/SSL)
#   TARGETS_RETENTION_MS  retention of exec.targets, the record a backtest replays
#                      (default: -1, keep forever)
#   MANIFEST           default: the repository's ops/topics.manifest
#
# Existing topics are left alone (--if-not-exists); afterwards the script checks that
# the co-partitioned topics (exec.targets, exec.orders, exec.reports) have the same
# partition count and exits 1 if not. exec.mode is compacted (every planner reads it
# whole); everything else uses the cluster's defaults.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bootstrap=${1:?usage: create-topics.sh BOOTSTRAP [REPLICATION_FACTOR]}
rf=${2:-3}
cli=${KAFKA_TOPICS:-kafka-topics.sh}
manifest=${MANIFEST:-$here/../topics.manifest}
extra=()
[ -n "${COMMAND_CONFIG:-}" ] && extra=(--command-config "$COMMAND_CONFIG")

while read -r topic parts _; do
        case $topic in "" | "#"*) continue ;; esac
        cfg=()
        case $topic in
        exec.mode) cfg=(--config cleanup.policy=compact) ;;
        exec.targets) cfg=(--config "retention.ms=${TARGETS_RETENTION_MS:--1}") ;;
        esac
        echo "create-topics: $topic partitions=$parts replication=$rf ${cfg[*]}"
        "$cli" --bootstrap-server "$bootstrap" "${extra[@]}" --create --if-not-exists \
                --topic "$topic" --partitions "$parts" --replication-factor "$rf" "${cfg[@]}"
done <"$manifest"

count() {
        "$cli" --bootstrap-server "$bootstrap" "${extra[@]}" --describe --topic "$1" |
                grep -c 'Partition: '
}
t=$(count exec.targets) o=$(count exec.orders) r=$(count exec.reports)
if [ "$t" != "$o" ] || [ "$t" != "$r" ]; then
        echo "create-topics: co-partitioning broken: exec.targets=$t exec.orders=$o exec.reports=$r" >&2
        exit 1
fi
echo "create-topics: ok (co-partitioned topics have $t partitions)"
