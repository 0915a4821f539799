#!/bin/sh
# Regenerates src/analysis/data/jieba_dict.txt from the jieba-rs crate's dictionary:
# `word freq` lines (part-of-speech tags dropped: kb never uses them) in byte order, so
# the analyzer can binary-search it without loading it (see src/analysis/lexicon.rs).
# Run after upgrading jieba-rs; `cargo test lexicon` checks the total it records.
set -eu
cd "$(dirname "$0")/.."
src=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/jieba-rs-0.11*/src/data/dict.txt | tail -n 1)
awk '{ print $1 " " $2 }' "$src" | LC_ALL=C sort -u > src/analysis/data/jieba_dict.txt
echo "words: $(wc -l < src/analysis/data/jieba_dict.txt)"
echo "total: $(awk '{ s += $2 } END { printf "%d", s }' src/analysis/data/jieba_dict.txt)"
