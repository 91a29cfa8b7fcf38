#!/usr/bin/env bash
# Builds the default job's JVM helper (assets/glue/jvm) into assets/glue/lib/glue-ingest-jvm.jar,
# which the construct ships on --extra-jars. Compiled for Java 8, so every Glue version
# (Java 8 on Glue 3/4, 17 on Glue 5) loads it; reproducible (fixed entry dates, sorted
# entries), so the asset's hash changes only when the source does.
set -euo pipefail
cd "$(dirname "$0")/.."
src=assets/glue/jvm/src
jar=assets/glue/lib/glue-ingest-jvm.jar
if [ -f "$jar" ] && [ -z "$(find "$src" -name '*.java' -newer "$jar")" ] && [ "$jar" -nt "$0" ]; then
  exit 0
fi
classes=$(mktemp -d)
trap 'rm -rf "$classes"' EXIT
find "$src" -name '*.java' | sort > "$classes/sources"
javac --release 8 -Xlint:all,-options -Werror -encoding UTF-8 -d "$classes/out" @"$classes/sources"
mkdir -p "$(dirname "$jar")"
rm -f "$jar"
(cd "$classes/out" && find . -name '*.class' | sort | sed 's|^\./||') > "$classes/entries"
args=()
while read -r entry; do args+=(-C "$classes/out" "$entry"); done < "$classes/entries"
jar --create --file "$jar" --no-manifest --date=2026-01-01T00:00:00Z "${args[@]}"
echo "built $jar"
