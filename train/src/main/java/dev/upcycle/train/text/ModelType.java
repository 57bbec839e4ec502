package dev.upcycle.train.text;

/** SentencePiece segmentation algorithm ({@code TrainerSpec.ModelType}). */
public enum ModelType {
  UNIGRAM(1),
  BPE(2),
  WORD(3),
  CHAR(4);

  private final int number;

  ModelType(int number) {
    this.number = number;
  }

  /** The enum number in {@code sentencepiece_model.proto}. */
  public int number() {
    return number;
  }

  static ModelType forNumber(int n) {
    for (ModelType t : values()) {
      if (t.number == n) {
        return t;
      }
    }
    return null;
  }
}
