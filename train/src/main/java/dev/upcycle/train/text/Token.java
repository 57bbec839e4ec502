package dev.upcycle.train.text;

/** A piece of normalized text and the vocabulary id a segmenter gave it (package-private). */
record Token(String piece, int id) {}
