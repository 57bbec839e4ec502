package dev.upcycle.train.text;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A SentencePiece model ({@code .model} file, a serialized {@code ModelProto}) in pure Java:
 * normalisation with the model's own precompiled character map (byte-exact: Darts double-array
 * trie lookup), UNIGRAM (Viterbi) and BPE (score-ordered merges) segmentation, byte fallback
 * ({@code <0xAB>} pieces) for unknown characters when the model enables it, and decoding.
 *
 * <p>Encoding gives the ids of SentencePiece 0.1.97's {@code spm_encode} (UNIGRAM: see
 * {@link UnigramSegmenter}): a run of unknown pieces becomes one unknown id when byte fallback is
 * off; no BOS/EOS is added (callers append {@link #eosId()} themselves).
 * WORD and CHAR models are not supported (rejected when loading).
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class SentencePieceModel {

  private final String source;
  private final Vocabulary vocab;
  private final TrainerSpec trainer;
  private final NormalizerSpec normalizerSpec;
  private final TextNormalizer normalizer;
  private final UnigramSegmenter unigram;
  private final BpeSegmenter bpe;
  private final int[] byteToId = new int[256];
  private final int[] idToByte;

  private SentencePieceModel(ModelProtoReader.Parsed parsed, String source) {
    this.source = source;
    this.vocab = new Vocabulary(parsed.pieces(), source);
    this.trainer = parsed.trainer();
    this.normalizerSpec = parsed.normalizer();
    Set<String> userDefined = new LinkedHashSet<>();
    for (int i = 0; i < vocab.size(); i++) {
      if (vocab.types[i] == PieceType.USER_DEFINED) {
        userDefined.add(vocab.pieces[i]);
      }
    }
    PrecompiledCharsMap map = parsed.precompiledCharsmap().length == 0
        ? null
        : PrecompiledCharsMap.decode(parsed.precompiledCharsmap(), source);
    this.normalizer = new TextNormalizer(normalizerSpec, map, userDefined);
    switch (trainer.modelType()) {
      case UNIGRAM -> {
        unigram = new UnigramSegmenter(vocab);
        bpe = null;
      }
      case BPE -> {
        unigram = null;
        bpe = new BpeSegmenter(vocab, userDefined);
      }
      default -> throw new SentencePieceFormatException(
          source + ": model_type " + trainer.modelType() + " is not supported (UNIGRAM, BPE only)");
    }
    Arrays.fill(byteToId, -1);
    idToByte = new int[vocab.size()];
    Arrays.fill(idToByte, -1);
    for (int i = 0; i < vocab.size(); i++) {
      if (vocab.types[i] == PieceType.BYTE) {
        String p = vocab.pieces[i];
        if (!p.matches("<0x[0-9A-F]{2}>")) {
          throw new SentencePieceFormatException(
              source + ": BYTE piece " + i + " is '" + p + "', expected <0xAB>");
        }
        int b = Integer.parseInt(p.substring(3, 5), 16);
        byteToId[b] = i;
        idToByte[i] = b;
      }
    }
    if (trainer.byteFallback()) {
      for (int b = 0; b < 256; b++) {
        if (byteToId[b] < 0) {
          throw new SentencePieceFormatException(String.format(
              "%s: byte_fallback is on but piece <0x%02X> is missing", source, b));
        }
      }
    }
    checkSpecialId("unk_id", trainer.unkId(), PieceType.UNKNOWN);
    checkSpecialId("bos_id", trainer.bosId(), PieceType.CONTROL);
    checkSpecialId("eos_id", trainer.eosId(), PieceType.CONTROL);
    checkSpecialId("pad_id", trainer.padId(), PieceType.CONTROL);
  }

  private void checkSpecialId(String name, int id, PieceType expected) {
    if (id < 0) {
      return;
    }
    if (id >= vocab.size() || vocab.types[id] != expected) {
      throw new SentencePieceFormatException(String.format(
          "%s: trainer_spec.%s = %d is not a %s piece (vocab size %d%s)", source, name, id,
          expected, vocab.size(), id < vocab.size() ? ", it is " + vocab.types[id] : ""));
    }
  }

  /** Reads a {@code .model} file. */
  public static SentencePieceModel load(Path file) throws IOException {
    checkNotNull(file, "file");
    return parse(Files.readAllBytes(file), file.toString());
  }

  /** Parses a serialized {@code ModelProto}; {@code source} names it in error messages. */
  public static SentencePieceModel parse(byte[] modelProto, String source) {
    checkNotNull(modelProto, "modelProto");
    return new SentencePieceModel(ModelProtoReader.parse(modelProto, source), source);
  }

  /** Number of pieces. */
  public int vocabSize() {
    return vocab.size();
  }

  /** The piece string of {@code id}. */
  public String idToPiece(int id) {
    checkId(id);
    return vocab.pieces[id];
  }

  /** Id of {@code piece}, or {@link #unkId()} if it is not in the vocabulary. */
  public int pieceToId(String piece) {
    checkNotNull(piece, "piece");
    return vocab.toId(piece);
  }

  /** Score (log probability for UNIGRAM, merge priority for BPE) of {@code id}. */
  public float score(int id) {
    checkId(id);
    return vocab.scores[id];
  }

  /** Type of {@code id}. */
  public PieceType pieceType(int id) {
    checkId(id);
    return vocab.types[id];
  }

  public ModelType modelType() {
    return trainer.modelType();
  }

  public TrainerSpec trainerSpec() {
    return trainer;
  }

  public NormalizerSpec normalizerSpec() {
    return normalizerSpec;
  }

  /** Id of the UNKNOWN piece. */
  public int unkId() {
    return vocab.unkId;
  }

  /** BOS id from the trainer spec, -1 if the model has none. */
  public int bosId() {
    return trainer.bosId();
  }

  /** EOS id from the trainer spec, -1 if the model has none. */
  public int eosId() {
    return trainer.eosId();
  }

  /** PAD id from the trainer spec, -1 if the model has none. */
  public int padId() {
    return trainer.padId();
  }

  public boolean byteFallback() {
    return trainer.byteFallback();
  }

  /**
   * The normalized text the segmenter sees: the character map applied, whitespace cleaned, the
   * dummy prefix added and spaces written as U+2581 (per the normalizer spec).
   */
  public String normalize(String text) {
    checkNotNull(text, "text");
    return normalizer.normalize(text);
  }

  /** Token ids of {@code text} (no BOS/EOS added). */
  public int[] encode(String text) {
    checkNotNull(text, "text");
    String normalized = normalizer.normalize(text);
    List<Token> tokens = unigram != null ? unigram.segment(normalized) : bpe.segment(normalized);
    int[] out = new int[tokens.size() * 2];
    int n = 0;
    boolean prevUnk = false;
    for (Token t : tokens) {
      boolean unk = t.id() == vocab.unkId;
      if (unk && trainer.byteFallback()) {
        for (byte b : t.piece().getBytes(StandardCharsets.UTF_8)) {
          if (n == out.length) {
            out = Arrays.copyOf(out, out.length * 2 + 4);
          }
          out[n++] = byteToId[b & 0xff];
        }
      } else if (!(unk && prevUnk)) {
        if (n == out.length) {
          out = Arrays.copyOf(out, out.length * 2 + 4);
        }
        out[n++] = t.id();
      }
      prevUnk = unk;
    }
    return Arrays.copyOf(out, n);
  }

  /** Piece strings of {@link #encode}'s ids. */
  public List<String> encodeAsPieces(String text) {
    int[] ids = encode(text);
    List<String> out = new ArrayList<>(ids.length);
    for (int id : ids) {
      out.add(vocab.pieces[id]);
    }
    return out;
  }

  /**
   * Text of {@code ids}: control pieces (pad, eos, ...) produce nothing, the unknown piece
   * produces the trainer spec's unk surface (" ⁇ "), runs of byte pieces are decoded as UTF-8
   * (malformed bytes become U+FFFD), U+2581 becomes a space and the dummy-prefix space at the
   * start is removed.
   */
  public String decode(int[] ids) {
    checkNotNull(ids, "ids");
    StringBuilder out = new StringBuilder();
    ByteArrayOutputStream pendingBytes = new ByteArrayOutputStream();
    boolean atStart = true;
    for (int id : ids) {
      checkId(id);
      PieceType type = vocab.types[id];
      if (type == PieceType.BYTE) {
        pendingBytes.write(idToByte[id]);
        continue;
      }
      atStart = flushBytes(pendingBytes, out, atStart);
      String surface;
      if (type == PieceType.CONTROL) {
        continue;
      } else if (type == PieceType.UNKNOWN) {
        surface = trainer.unkSurface();
      } else {
        String piece = vocab.pieces[id];
        if (atStart && (normalizerSpec.addDummyPrefix() || normalizerSpec.removeExtraWhitespaces())
            && piece.startsWith(TextNormalizer.SPACE_SYMBOL)) {
          piece = piece.substring(TextNormalizer.SPACE_SYMBOL.length());
        }
        surface = piece.replace(TextNormalizer.SPACE_SYMBOL, " ");
      }
      out.append(surface);
      if (!surface.isEmpty()) {
        atStart = false;
      }
    }
    flushBytes(pendingBytes, out, atStart);
    return out.toString();
  }

  private static boolean flushBytes(ByteArrayOutputStream pending, StringBuilder out,
      boolean atStart) {
    if (pending.size() == 0) {
      return atStart;
    }
    String s = pending.toString(StandardCharsets.UTF_8);
    pending.reset();
    out.append(s);
    return atStart && s.isEmpty();
  }

  private void checkId(int id) {
    checkArgument(id >= 0 && id < vocab.size(),
        "%s: token id %s is outside the vocabulary [0, %s)", source, id, vocab.size());
  }

  @Override
  public String toString() {
    return "SentencePieceModel(" + source + ", " + trainer.modelType() + ", vocab "
        + vocab.size() + ")";
  }
}
