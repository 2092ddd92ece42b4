#!/usr/bin/env bash
# Builds the JDK layer of the java-validation agent: a jlink'ed Java 17 runtime holding javac (modules
# java.base + jdk.compiler and what they require), ~60 MB unzipped, well inside Lambda's 250 MB layer limit.
# Lambda mounts it at /opt; the function sets JAVAC=/opt/jdk/bin/javac.
#
# Usage (CDK bundling runs the same commands in amazoncorretto:17 for linux/arm64):
#   lambdas/migration/functions/agent-java-validation/jdk-layer/build.sh <output dir>   → <output dir>/jdk/…
set -euo pipefail
out="${1:?output directory}"
rm -rf "$out/jdk"
mkdir -p "$out"
jlink \
  --add-modules java.base,java.compiler,jdk.compiler,jdk.zipfs \
  --strip-debug --no-man-pages --no-header-files --compress=2 \
  --output "$out/jdk"
"$out/jdk/bin/javac" -version
