package dev.upcycle.train.text;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Parses a serialized SentencePiece {@code ModelProto} by field number with protobuf's
 * {@link CodedInputStream} (no generated code). Field numbers follow
 * {@code sentencepiece_model.proto}; unknown fields are skipped.
 */
final class ModelProtoReader {

  /** One vocabulary entry. */
  record Piece(String piece, float score, PieceType type) {}

  /** Everything read from the file. */
  record Parsed(List<Piece> pieces, TrainerSpec trainer, NormalizerSpec normalizer,
      byte[] precompiledCharsmap) {}

  private ModelProtoReader() {}

  static Parsed parse(byte[] bytes, String source) {
    try {
      return parseModel(CodedInputStream.newInstance(bytes), source);
    } catch (IOException e) {
      throw new SentencePieceFormatException(
          source + ": not a SentencePiece ModelProto: " + e.getMessage(), e);
    }
  }

  private static Parsed parseModel(CodedInputStream in, String source) throws IOException {
    List<Piece> pieces = new ArrayList<>();
    TrainerSpec trainer = null;
    NormalizerSpec normalizer = null;
    byte[] charsmap = new byte[0];
    while (true) {
      int tag = in.readTag();
      if (tag == 0) {
        break;
      }
      int field = WireFormat.getTagFieldNumber(tag);
      if (field == 1 && isLengthDelimited(tag)) {
        pieces.add(parsePiece(CodedInputStream.newInstance(in.readByteArray()), source,
            pieces.size()));
      } else if (field == 2 && isLengthDelimited(tag)) {
        trainer = parseTrainer(CodedInputStream.newInstance(in.readByteArray()));
      } else if (field == 3 && isLengthDelimited(tag)) {
        NormalizerData n = parseNormalizer(CodedInputStream.newInstance(in.readByteArray()));
        normalizer = n.spec();
        charsmap = n.charsmap();
      } else {
        in.skipField(tag);
      }
    }
    if (pieces.isEmpty()) {
      throw new SentencePieceFormatException(source + ": ModelProto has no pieces (field 1)");
    }
    if (trainer == null) {
      trainer = parseTrainer(CodedInputStream.newInstance(new byte[0]));
    }
    if (normalizer == null) {
      normalizer = new NormalizerSpec("", 0, true, true, true);
    }
    return new Parsed(List.copyOf(pieces), trainer, normalizer, charsmap);
  }

  private static Piece parsePiece(CodedInputStream in, String source, int index)
      throws IOException {
    String piece = null;
    float score = 0f;
    PieceType type = PieceType.NORMAL;
    while (true) {
      int tag = in.readTag();
      if (tag == 0) {
        break;
      }
      switch (WireFormat.getTagFieldNumber(tag)) {
        case 1 -> piece = new String(in.readByteArray(), StandardCharsets.UTF_8);
        case 2 -> score = in.readFloat();
        case 3 -> {
          int n = in.readEnum();
          type = PieceType.forNumber(n);
          if (type == null) {
            throw new SentencePieceFormatException(
                source + ": piece " + index + " has unknown type " + n);
          }
        }
        default -> in.skipField(tag);
      }
    }
    if (piece == null || piece.isEmpty()) {
      throw new SentencePieceFormatException(source + ": piece " + index + " is empty");
    }
    return new Piece(piece, score, type);
  }

  private static TrainerSpec parseTrainer(CodedInputStream in) throws IOException {
    ModelType modelType = ModelType.UNIGRAM;
    int vocabSize = 8000;
    int unk = 0;
    int bos = 1;
    int eos = 2;
    int pad = -1;
    boolean byteFallback = false;
    String unkSurface = " \u2047 ";
    while (true) {
      int tag = in.readTag();
      if (tag == 0) {
        break;
      }
      switch (WireFormat.getTagFieldNumber(tag)) {
        case 3 -> {
          int n = in.readEnum();
          ModelType t = ModelType.forNumber(n);
          if (t == null) {
            throw new IOException("unknown trainer_spec.model_type " + n);
          }
          modelType = t;
        }
        case 4 -> vocabSize = in.readInt32();
        case 35 -> byteFallback = in.readBool();
        case 40 -> unk = in.readInt32();
        case 41 -> bos = in.readInt32();
        case 42 -> eos = in.readInt32();
        case 43 -> pad = in.readInt32();
        case 44 -> unkSurface = new String(in.readByteArray(), StandardCharsets.UTF_8);
        default -> in.skipField(tag);
      }
    }
    return new TrainerSpec(modelType, vocabSize, unk, bos, eos, pad, byteFallback, unkSurface);
  }

  private record NormalizerData(NormalizerSpec spec, byte[] charsmap) {}

  private static NormalizerData parseNormalizer(CodedInputStream in) throws IOException {
    String name = "";
    byte[] charsmap = new byte[0];
    boolean dummy = true;
    boolean removeExtra = true;
    boolean escape = true;
    while (true) {
      int tag = in.readTag();
      if (tag == 0) {
        break;
      }
      switch (WireFormat.getTagFieldNumber(tag)) {
        case 1 -> name = new String(in.readByteArray(), StandardCharsets.UTF_8);
        case 2 -> charsmap = in.readByteArray();
        case 3 -> dummy = in.readBool();
        case 4 -> removeExtra = in.readBool();
        case 5 -> escape = in.readBool();
        default -> in.skipField(tag);
      }
    }
    return new NormalizerData(
        new NormalizerSpec(name, charsmap.length, dummy, removeExtra, escape), charsmap);
  }

  private static boolean isLengthDelimited(int tag) {
    return WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED;
  }
}
