#!/bin/sh
# Regenerates the spm_kjv fixture (see ../MANIFEST.md) with Debian's sentencepiece 0.1.97
# (spm_train, spm_encode) and bible-kjv 4.38 (bible). Usage: make.sh [OUTPUT_DIR]
# (default: this script's folder). spm_train is deterministic for fixed flags and inputs, and
# the model file records --input and --model_prefix, so both are plain names in a scratch folder.
set -eu
export LC_ALL=C
out=$(cd "${1:-$(dirname "$0")}" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# The corpus: the 31,102 verses, "Ge1:1 In the beginning ..." -> REF<TAB>TEXT, and TEXT alone.
bible -f "gen1:1-rev22:21" | awk '{ ref = $1; sub(/^[^ ]* /, ""); print ref "\t" $0 }' > verses.tsv
cut -f2 verses.tsv > kjv.txt
test "$(wc -l < kjv.txt)" -eq 31102

# Repeats: each of the 300 most frequent words of 3+ letters written 2..16 times without spaces
# ("areare..."): strings with many segmentations of almost equal score, where the float-only
# Viterbi broke near-ties the other way.
tr -cs 'A-Za-z' '\n' < kjv.txt | awk 'length >= 3' | sort | uniq -c | sort -k1,1nr -k2,2 \
  | head -n 300 \
  | awk '{ for (k = 2; k <= 16; k++) { s = ""; for (i = 0; i < k; i++) s = s $2; print "rep:" $2 "*" k "\t" s } }' \
  > repeats.tsv

spm_train --input=kjv.txt --model_prefix=unigram_4000 --model_type=unigram --vocab_size=4000 \
  --num_threads=1 > train.log 2>&1
spm_train --input=kjv.txt --model_prefix=unigram_1000 --model_type=unigram --vocab_size=1000 \
  --normalization_rule_name=identity --num_threads=1 > train.log 2>&1
spm_train --input=kjv.txt --model_prefix=unigram_1000_user --model_type=unigram --vocab_size=1000 \
  --user_defined_symbols=LORD,God,Jesus,th,ing --normalization_rule_name=identity \
  --num_threads=1 > train.log 2>&1
spm_train --input=kjv.txt --model_prefix=bpe_1000 --model_type=bpe --vocab_size=1000 \
  --normalization_rule_name=identity --num_threads=1 > train.log 2>&1

# Every line (of verses.tsv and repeats.tsv, for any of the four models) where the segmenter
# before the fix (commit 51c3409) disagreed with spm_encode.
before_fix="Ge14:5 Ge23:2 Num32:37 Num33:46 Num33:47 Deu3:14 Josh13:19 Josh14:15 Josh15:54 Josh20:7
Josh21:18 Jdgs1:10 Jdgs3:8 Jdgs3:10 Jdgs3:15 Jdgs20:16 1Sm1:1 1Sm22:20 1Sm22:21 1Sm22:22
1Sm23:6 1Sm23:9 1Sm30:7 2Sm8:17 2Sm15:24 2Sm15:27 2Sm15:29 2Sm15:35 2Sm15:36 2Sm17:15 2Sm19:11
2Sm20:25 1Ki1:7 1Ki1:19 1Ki1:25 1Ki1:42 1Ki2:22 1Ki2:26 1Ki2:27 1Ki2:35 1Ki4:4 1Chr3:17
1Chr6:60 1Chr6:76 1Chr7:8 1Chr15:11 1Chr18:16 1Chr24:6 1Chr27:34 Ezra2:23 Ezra2:25 Ezra2:63
Neh7:27 Neh7:65 Neh7:70 Neh8:9 Neh10:1 Neh10:19 Neh11:25 Neh11:32 Neh12:28 Est3:1 Est3:10
Est8:5 Est9:7 Est9:8 Est9:9 Est9:10 Est9:24 Isa10:30 Jer1:1 Jer11:21 Jer11:23 Jer29:27 Jer32:7
Jer32:8 Jer32:9 Jer48:1 Jer48:22 Jer48:23 Eze25:9 Mat1:12 Mat27:57 Mark2:26 Mark7:34 Mark15:43
Luke3:25 Luke3:26 Luke3:27 Luke3:31 Luke23:51 John19:38 1Cor16:22 Phi2:3 rep:are*4 rep:are*6
rep:are*8 rep:are*10 rep:are*12 rep:are*14 rep:are*16 rep:our*4 rep:our*6 rep:our*8 rep:our*10
rep:our*12 rep:our*14 rep:our*16 rep:hast*3 rep:hast*4 rep:hast*5 rep:hast*6 rep:hast*7
rep:hast*8 rep:hast*9 rep:hast*10 rep:hast*11 rep:hast*12 rep:hast*13 rep:hast*14 rep:hast*15
rep:hast*16 rep:she*4 rep:she*6 rep:she*12 rep:she*14 rep:she*16 rep:sea*14 rep:sea*16"

# The sample: every 100th verse, every 50th repeat, and every line listed above.
{
  awk -F '\t' -v refs="$before_fix" -v every=100 \
    'BEGIN { n = split(refs, r, /[ \n]+/); for (i = 1; i <= n; i++) keep[r[i]] = 1 }
     NR % every == 1 || ($1 in keep)' verses.tsv
  awk -F '\t' -v refs="$before_fix" -v every=50 \
    'BEGIN { n = split(refs, r, /[ \n]+/); for (i = 1; i <= n; i++) keep[r[i]] = 1 }
     NR % every == 1 || ($1 in keep)' repeats.tsv
} > sample.tsv

for m in unigram_4000 unigram_1000 unigram_1000_user bpe_1000; do
  cut -f2 sample.tsv | spm_encode --model="$m.model" --output_format=id > "$m.ids"
  test "$(wc -l < "$m.ids")" -eq "$(wc -l < sample.tsv)"
  cp "$m.model" "$m.ids" "$out/"
done
cp sample.tsv "$out/"
