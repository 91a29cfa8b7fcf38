#!/usr/bin/env bash
# Makes aws-cdk-lib for Java resolvable in the project's Maven repository, before
# jsii-pacmak builds our jar and before the Java smoke app builds against it.
#
# Our jar depends on aws-cdk-lib [2.270.0,3.0.0), a version range. Maven resolves
# a range from the registry's maven-metadata.xml, and the Maven Central this
# project builds on serves a stale one (latest 2.263.0) and no jars for
# 2.264.0-2.270.0, so the range resolves to nothing and the build fails.
# Installing a version the registry does serve, inside the range, lists it in the
# repository's maven-metadata-local.xml, which Maven reads as well. On a registry
# with current metadata this changes nothing: the range resolves to the newest 2.x.
#
# Usage: scripts/seed-maven.sh [local-repository]   (default: .tmp/m2)
# Idempotent: a second run finds the version installed and returns.
set -euo pipefail
cd "$(dirname "$0")/.."

repo=$(realpath -m "${1:-.tmp/m2}")
version=${JAVA_AWS_CDK_LIB_VERSION:-2.272.0}
artifact=software.amazon.awscdk:aws-cdk-lib:$version
dir="$repo/software/amazon/awscdk/aws-cdk-lib"

if [ -f "$dir/maven-metadata-local.xml" ] && grep -q "<version>$version</version>" "$dir/maven-metadata-local.xml"; then
  exit 0
fi
echo "seed-maven: installing $artifact into $repo"
# Maven 3.8 prints colour resets even in batch mode; strip them (pipefail keeps its exit code).
mvn() { command mvn --batch-mode --quiet -Dmaven.repo.local="$repo" "$@" 2>&1 | sed $'s/\x1b\\[0m//g'; }
mvn dependency:get -Dartifact="$artifact" -Dtransitive=true
# install-file refuses to install a file onto itself: copy it out first.
staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
cp "$dir/$version/aws-cdk-lib-$version.jar" "$dir/$version/aws-cdk-lib-$version.pom" "$staging/"
mvn install:install-file -Dfile="$staging/aws-cdk-lib-$version.jar" -DpomFile="$staging/aws-cdk-lib-$version.pom"
