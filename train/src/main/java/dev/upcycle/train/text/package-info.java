/**
 * Text to token ids, in pure Java: a SentencePiece model reader and encoder/decoder
 * ({@link dev.upcycle.train.text.SentencePieceModel}: UNIGRAM Viterbi, BPE merges with byte
 * fallback, the model's own precompiled normalisation table), T5 span corruption
 * ({@link dev.upcycle.train.text.SpanCorruption}) and sequence packing
 * ({@link dev.upcycle.train.text.Packer}).
 */
package dev.upcycle.train.text;
