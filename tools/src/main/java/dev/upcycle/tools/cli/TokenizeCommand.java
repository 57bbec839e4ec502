package dev.upcycle.tools.cli;

import dev.upcycle.tools.progress.Progress;
import dev.upcycle.train.data.Compression;
import dev.upcycle.train.data.TokenizeJob;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code upcycle data tokenize}: plain text → TFRecords of int64 inputs/targets. */
@Command(name = "tokenize", description = "Tokenize text files with a SentencePiece model into TFRecords (T5 span corruption or LM).")
public final class TokenizeCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
  boolean help;

  @Option(names = "--spm", required = true, paramLabel = "MODEL", description = "SentencePiece .model file (unigram or BPE).")
  Path spm;

  @Option(names = "--in", required = true, arity = "1..*", paramLabel = "TEXT", description = "Text files; one document per line.")
  List<Path> in;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output folder (must not exist; appears atomically) for the TFRecord shards and provenance.json.")
  Path out;

  @Option(names = "--pack", defaultValue = "512", paramLabel = "N",
      description = "Row length: documents are chunked and packed to N tokens; 0 = one example per line. Default: ${DEFAULT-VALUE}.")
  int pack;

  @Option(names = "--span-corruption", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "T5 span corruption (noise density 0.15, mean span 3); --no-span-corruption writes LM targets. Default: ${DEFAULT-VALUE}.")
  boolean spanCorruption;

  @Option(names = "--extra-ids", defaultValue = "100", description = "Sentinel ids above the vocabulary. Default: ${DEFAULT-VALUE}.")
  int extraIds;

  @Option(names = "--shards", defaultValue = "1", description = "Output files. Default: ${DEFAULT-VALUE}.")
  int shards;

  @Option(names = "--gzip", description = "Write GZIP-compressed TFRecords.")
  boolean gzip;

  @Option(names = "--seed", defaultValue = "0", description = "Span-corruption seed. Default: ${DEFAULT-VALUE}.")
  long seed;

  @Option(names = "--allow-empty", description = "Write an output of 0 examples when the text holds no documents"
      + " (refused otherwise).")
  boolean allowEmpty;

  @Override
  public Integer call() throws Exception {
    InputFiles.check("--spm", spm);
    InputFiles.check("--in", in);
    long bytes = 0;
    for (Path p : in) {
      bytes += Files.size(p);
    }
    long total = bytes;
    TokenizeJob.Options options = new TokenizeJob.Options(pack, 0, spanCorruption, spanCorruption ? extraIds : 0, seed,
        shards, gzip ? Compression.GZIP : Compression.NONE, allowEmpty);
    TokenizeJob.Result r;
    // the bar starts with the first bytes read, so an error before the work (bad model, existing --out) prints none
    Progress[] progress = {null};
    try {
      long[] done = {0};
      r = TokenizeJob.tokenize(spm, in, out, options, (read, all, examples) -> {
        if (progress[0] == null) {
          progress[0] = Progress.start("tokenize", total / 1024, "KiB");
        }
        progress[0].advance(read / 1024 - done[0]);
        done[0] = read / 1024;
      });
    } finally {
      if (progress[0] != null) {
        progress[0].close();
      }
    }
    spec.commandLine().getOut().printf("wrote %d examples (%d documents, %d tokens) in %d shard(s) to %s;"
        + " inputs length %d, targets length %d; model vocabulary %d%n", r.examples(), r.documents(), r.tokens(),
        r.shards().size(), r.outDir(), r.inputsLength(), r.targetsLength(), r.vocabSize());
    return 0;
  }
}
