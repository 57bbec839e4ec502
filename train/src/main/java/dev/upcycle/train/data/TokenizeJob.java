package dev.upcycle.train.data;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.upcycle.ckpt.AtomicFolder;
import dev.upcycle.ckpt.Digests;
import dev.upcycle.provenance.Provenance;
import dev.upcycle.train.text.Packer;
import dev.upcycle.train.text.SentencePieceModel;
import dev.upcycle.train.text.SpanCorruption;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.tensorflow.proto.Example;

/**
 * Turns text files into TFRecord shards of int64 {@code inputs}/{@code targets} Examples: the
 * library side of the CLI's tokenize command.
 *
 * <p>Each non-blank line of each file (UTF-8) is one document, encoded with the SentencePiece
 * model. Then, per {@link Options}:
 * <ul>
 *   <li>span corruption on: the document is cut into chunks of
 *       {@link SpanCorruption#lengthsFor}{@code (packLength).tokensLength} tokens (whole document
 *       if {@code packLength == 0}); each chunk is corrupted (T5 defaults, sentinels are the
 *       {@code extraIds} ids just above the SentencePiece vocabulary, counting down from
 *       {@code vocabSize + extraIds - 1}) with a seed derived from (seed, document, chunk);
 *   <li>span corruption off (language modelling): chunks of {@code packLength - 1} tokens plus
 *       EOS go to {@code targets}; {@code inputs} is written empty.
 * </ul>
 * With {@code packLength > 0} examples are packed ({@link Packer}, first fit within windows of
 * {@value #PACK_WINDOW} examples) into rows of {@code packLength} inputs and
 * {@code targetsLength} targets, adding {@code inputs_segment_ids}, {@code inputs_positions},
 * {@code targets_segment_ids}, {@code targets_positions}. Rows (or unpacked examples) are dealt
 * round-robin to {@code shardCount} files {@code data.tfrecord-00000-of-0000N} ({@code .gz} when
 * compressed), beside a {@code provenance.json} (kind {@code tokenize}: the SentencePiece model
 * and its SHA-256, the text files and the options). The folder {@code outDir} (which must not
 * exist) is published with {@link AtomicFolder}, so it appears only when complete. The records
 * depend only on the inputs and the options (no wall-clock or thread randomness).
 */
public final class TokenizeJob {

  /** Examples packed together at most (first-fit works within one window). */
  public static final int PACK_WINDOW = 1024;

  /**
   * Job options.
   *
   * @param packLength row length of packed examples; 0 = no chunking and no packing
   * @param targetsLength targets row length when packing; 0 = derived (span corruption: T5's
   *     {@code random_spans_helper}; language modelling: {@code packLength})
   * @param spanCorruption T5 span corruption on/off
   * @param extraIds sentinel ids above the SentencePiece vocabulary (T5: 100)
   * @param seed seed of the span-corruption randomness
   * @param shardCount number of output files
   * @param compression output compression
   * @param allowEmpty write an output of 0 examples when the text holds no documents (else refused)
   */
  public record Options(int packLength, int targetsLength, boolean spanCorruption, int extraIds,
      long seed, int shardCount, Compression compression, boolean allowEmpty) {
    /** Options refusing empty input. */
    public Options(int packLength, int targetsLength, boolean spanCorruption, int extraIds, long seed, int shardCount,
        Compression compression) {
      this(packLength, targetsLength, spanCorruption, extraIds, seed, shardCount, compression, false);
    }

    public Options {
      checkArgument(packLength == 0 || packLength >= 4, "packLength %s must be 0 or >= 4",
          packLength);
      checkArgument(targetsLength >= 0, "targetsLength %s must be >= 0", targetsLength);
      checkArgument(targetsLength == 0 || packLength > 0,
          "targetsLength %s needs packLength > 0", targetsLength);
      checkArgument(!spanCorruption || extraIds >= 1,
          "span corruption needs extraIds >= 1, got %s", extraIds);
      checkArgument(extraIds >= 0, "extraIds %s must be >= 0", extraIds);
      checkArgument(shardCount >= 1, "shardCount %s must be >= 1", shardCount);
      checkNotNull(compression, "compression");
    }

    /** T5-style defaults: 100 extra ids, targets length derived, no compression. */
    public static Options of(int packLength, boolean spanCorruption, long seed, int shardCount) {
      return new Options(packLength, 0, spanCorruption, 100, seed, shardCount, Compression.NONE);
    }
  }

  /** Progress callback: bytes of text read so far, of the total, and examples written. */
  @FunctionalInterface
  public interface Progress {
    void update(long bytesRead, long totalBytes, long examplesWritten);

    Progress NONE = (a, b, c) -> { };
  }

  /**
   * What was written. {@code examples} counts records, {@code segments} packed examples;
   * {@code vocabSize} is the vocabulary a model needs for these ids (the SentencePiece pieces plus
   * the sentinels when span corruption is on).
   */
  public record Result(Path outDir, List<Path> shards, long documents, long segments,
      long examples, long tokens, int inputsLength, int targetsLength, int vocabSize) {}

  private TokenizeJob() {}

  /** Runs the job with the SentencePiece model file {@code spmFile}; see the class comment. */
  public static Result tokenize(Path spmFile, List<Path> textFiles, Path outDir,
      Options options, Progress progress) throws IOException {
    checkNotNull(spmFile, "spmFile");
    SentencePieceModel spm = SentencePieceModel.load(spmFile);
    checkNotNull(textFiles, "textFiles");
    checkArgument(!textFiles.isEmpty(), "no text files given");
    checkNotNull(outDir, "outDir");
    checkNotNull(options, "options");
    checkNotNull(progress, "progress");
    checkArgument(spm.eosId() >= 0, "%s has no EOS piece; T5 examples need one", spm);
    long total = 0;
    for (Path f : textFiles) {
      checkArgument(Files.isRegularFile(f), "text file %s does not exist", f);
      total += Files.size(f);
    }
    Path target = outDir.toAbsolutePath().normalize();
    AtomicFolder.checkTarget(target, false);
    try (AtomicFolder out = AtomicFolder.stage(target, false)) {
      Run run = new Run(spm, options, out.path(), total, progress);
      Result r = run.execute(textFiles);
      checkArgument(r.examples() > 0 || options.allowEmpty(), "no documents in %s: every line is empty, so 0 examples"
          + " would be written; nothing written (data tokenize --allow-empty writes an empty output)", textFiles);
      provenance(spmFile, textFiles, options).withOutputsOf(out.path()).writeTo(out.path());
      out.commit();
      List<Path> shards = new ArrayList<>();
      for (Path p : r.shards()) {
        shards.add(target.resolve(p.getFileName().toString()));
      }
      return new Result(target, List.copyOf(shards), r.documents(), r.segments(), r.examples(),
          r.tokens(), r.inputsLength(), r.targetsLength(),
          spm.vocabSize() + (options.spanCorruption() ? options.extraIds() : 0));
    }
  }

  /** The record of a tokenize output: the SentencePiece model as its source, the text files and options. */
  private static Provenance provenance(Path spmFile, List<Path> textFiles, Options options) throws IOException {
    Path model = spmFile.toAbsolutePath().normalize();
    ObjectNode o = Provenance.newOptions();
    var texts = o.putArray("text_files");
    for (Path f : textFiles) {
      texts.addObject().put("path", f.toAbsolutePath().normalize().toString()).put("bytes", Files.size(f));
    }
    o.put("pack_length", options.packLength());
    o.put("targets_length", options.targetsLength());
    o.put("span_corruption", options.spanCorruption());
    o.put("extra_ids", options.extraIds());
    o.put("seed", options.seed());
    o.put("shard_count", options.shardCount());
    o.put("compression", options.compression().name().toLowerCase(Locale.ROOT));
    return Provenance.of(Provenance.Kind.TOKENIZE, new Provenance.Source(model.toString(), "sentencepiece",
        model.getFileName().toString(), Digests.sha256(model)), o, null, null);
  }

  /** Name of shard {@code i} of {@code n}. */
  public static String shardName(int i, int n, Compression compression) {
    return String.format("data.tfrecord-%05d-of-%05d%s", i, n,
        compression == Compression.GZIP ? ".gz" : "");
  }

  /** The state of one run. */
  private static final class Run {
    private final SentencePieceModel spm;
    private final Options options;
    private final long totalBytes;
    private final Progress progress;
    private final SpanCorruption corruption;
    private final int chunkTokens; // 0 = whole document
    private final int inputsLength;
    private final int targetsLength;
    private final Packer packer;
    private final TfRecordWriter[] writers;
    private final List<int[][]> window = new ArrayList<>();
    private long bytesRead;
    private long documents;
    private long segments;
    private long examples;
    private long tokens;

    Run(SentencePieceModel spm, Options options, Path dir, long totalBytes, Progress progress)
        throws IOException {
      this.spm = spm;
      this.options = options;
      this.totalBytes = totalBytes;
      this.progress = progress;
      int pack = options.packLength();
      if (options.spanCorruption()) {
        corruption = new SpanCorruption(new SpanCorruption.Config(0.15, 3.0,
            spm.vocabSize() + options.extraIds(), options.extraIds(), spm.eosId()));
        if (pack > 0) {
          SpanCorruption.Lengths l = SpanCorruption.lengthsFor(pack, 0.15, 3.0);
          chunkTokens = l.tokensLength();
          inputsLength = pack;
          targetsLength = options.targetsLength() > 0 ? options.targetsLength() : l.targetsLength();
        } else {
          chunkTokens = 0;
          inputsLength = 0;
          targetsLength = 0;
        }
      } else {
        corruption = null;
        chunkTokens = pack > 0 ? pack - 1 : 0;
        inputsLength = 0;
        targetsLength = pack > 0
            ? (options.targetsLength() > 0 ? options.targetsLength() : pack) : 0;
      }
      packer = pack == 0 ? null : options.spanCorruption()
          ? new Packer(new int[] {inputsLength, targetsLength}, 0)
          : new Packer(new int[] {targetsLength}, 0);
      writers = new TfRecordWriter[options.shardCount()];
      for (int i = 0; i < writers.length; i++) {
        writers[i] = TfRecordWriter.create(
            dir.resolve(shardName(i, writers.length, options.compression())),
            options.compression());
      }
    }

    Result execute(List<Path> files) throws IOException {
      try {
        for (Path f : files) {
          try (BufferedReader in = Files.newBufferedReader(f, StandardCharsets.UTF_8)) {
            long lineNo = 0;
            for (String line; (line = in.readLine()) != null; ) {
              lineNo++;
              bytesRead += line.getBytes(StandardCharsets.UTF_8).length + 1;
              if (!line.isBlank()) {
                try {
                  document(line);
                } catch (IllegalArgumentException e) {
                  throw new IllegalArgumentException(
                      f + ":" + lineNo + ": " + e.getMessage(), e);
                }
              }
              if (lineNo % 256 == 0) {
                progress.update(Math.min(bytesRead, totalBytes), totalBytes, examples);
              }
            }
          } catch (java.nio.charset.CharacterCodingException e) {
            throw new IOException(f + ": not valid UTF-8 text: " + e.getMessage(), e);
          }
        }
        flushWindow();
      } finally {
        for (TfRecordWriter w : writers) {
          w.close(); // on failure the stage, files and all, is removed by the caller
        }
      }
      progress.update(totalBytes, totalBytes, examples);
      List<Path> shards = new ArrayList<>();
      for (TfRecordWriter w : writers) {
        shards.add(w.target());
      }
      return new Result(null, shards, documents, segments, examples, tokens, inputsLength,
          targetsLength, 0);
    }

    private void document(String line) throws IOException {
      int[] ids = spm.encode(line);
      tokens += ids.length;
      long doc = documents++;
      if (ids.length == 0) {
        return;
      }
      int step = chunkTokens == 0 ? ids.length : chunkTokens;
      int chunk = 0;
      for (int from = 0; from < ids.length; from += step, chunk++) {
        int[] piece = Arrays.copyOfRange(ids, from, Math.min(ids.length, from + step));
        int[][] example;
        if (corruption != null) {
          SpanCorruption.Result r = corruption.corrupt(piece, mix(options.seed(), doc, chunk));
          example = new int[][] {r.inputs(), r.targets()};
        } else {
          int[] targets = Arrays.copyOf(piece, piece.length + 1);
          targets[piece.length] = spm.eosId();
          example = packer == null ? new int[][] {new int[0], targets} : new int[][] {targets};
        }
        segments++;
        if (packer == null) {
          write(ExampleCodec.tokens(example[0], example[1]));
        } else {
          window.add(example);
          if (window.size() >= PACK_WINDOW) {
            flushWindow();
          }
        }
      }
    }

    private void flushWindow() throws IOException {
      if (packer == null || window.isEmpty()) {
        return;
      }
      for (Packer.Row row : packer.pack(window)) {
        Map<String, int[]> f = new LinkedHashMap<>();
        if (corruption != null) {
          f.put("inputs", row.tokens()[0]);
          f.put("inputs_segment_ids", row.segmentIds()[0]);
          f.put("inputs_positions", row.positions()[0]);
          f.put("targets", row.tokens()[1]);
          f.put("targets_segment_ids", row.segmentIds()[1]);
          f.put("targets_positions", row.positions()[1]);
        } else {
          f.put("inputs", new int[0]);
          f.put("targets", row.tokens()[0]);
          f.put("targets_segment_ids", row.segmentIds()[0]);
          f.put("targets_positions", row.positions()[0]);
        }
        write(ExampleCodec.int64Features(f));
      }
      window.clear();
    }

    private void write(Example ex) throws IOException {
      writers[(int) (examples % writers.length)].write(ex);
      examples++;
    }

    private static long mix(long seed, long doc, long chunk) {
      long z = seed * 0x9E3779B97F4A7C15L + doc * 0xBF58476D1CE4E5B9L + chunk * 0x94D049BB133111EBL;
      z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
      z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
      return z ^ (z >>> 31);
    }
  }
}
