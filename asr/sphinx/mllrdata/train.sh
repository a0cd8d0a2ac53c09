#!/bin/sh
# Estimates the telephone MLLR transform (asr/sphinx/telephone.mllr).
# Needs: apt-get install sphinxtrain sphinxbase-utils pocketsphinx-en-us
# Usage: asr/sphinx/mllrdata/train.sh OUTDIR [mllrdata flags, e.g. -bwe builtin]   (from the repository root)
set -e
OUT=${1:?usage: train.sh OUTDIR [mllrdata flags]}
shift
M=/usr/share/pocketsphinx/model/en-us/en-us
ST=/usr/lib/sphinxtrain
go run ./asr/sphinx/mllrdata -out "$OUT" -mixw "$OUT/mixture_weights" "$@"
pocketsphinx_mdef_convert -text $M/mdef "$OUT/mdef.txt"
mkdir -p "$OUT/mfc" "$OUT/acc"
# Front end as in the model's feat.params; no silence removal, as decoded.
sphinx_fe -lowerf 130 -upperf 6800 -nfilt 25 -transform dct -lifter 22 -samprate 16000 \
	-c "$OUT/ctl" -di "$OUT/wav" -do "$OUT/mfc" -ei wav -eo mfc -mswav yes \
	-remove_silence no -remove_noise yes
$ST/bw -hmmdir $M -moddeffn "$OUT/mdef.txt" -ts2cbfn .ptm. -feat 1s_c_d_dd \
	-svspec 0-12/13-25/26-38 -cmn batch -agc none -dictfn "$OUT/dict" -fdictfn $M/noisedict \
	-ctlfn "$OUT/ctl" -lsnfn "$OUT/lsn" -cepdir "$OUT/mfc" -cepext mfc -accumdir "$OUT/acc" \
	-mixwfn "$OUT/mixture_weights" -tmatfn $M/transition_matrices -meanfn $M/means -varfn $M/variances
$ST/mllr_solve -meanfn $M/means -varfn $M/variances -outmllrfn "$OUT/telephone.mllr" -accumdir "$OUT/acc"
echo "wrote $OUT/telephone.mllr"
