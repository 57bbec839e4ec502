package dev.upcycle.train.text;

/** Type of a SentencePiece vocabulary entry ({@code ModelProto.SentencePiece.Type}). */
public enum PieceType {
  NORMAL(1),
  UNKNOWN(2),
  CONTROL(3),
  USER_DEFINED(4),
  UNUSED(5),
  BYTE(6);

  private final int number;

  PieceType(int number) {
    this.number = number;
  }

  /** The enum number in {@code sentencepiece_model.proto}. */
  public int number() {
    return number;
  }

  static PieceType forNumber(int n) {
    for (PieceType t : values()) {
      if (t.number == n) {
        return t;
      }
    }
    return null;
  }
}
