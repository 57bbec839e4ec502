package dev.upcycle.train.text;

/** A SentencePiece model file that cannot be read; the message names the file and the field. */
public final class SentencePieceFormatException extends IllegalArgumentException {

  /** Creates the exception with a message naming the file and what is wrong. */
  public SentencePieceFormatException(String message) {
    super(message);
  }

  /** Creates the exception with a message and the failure behind it. */
  public SentencePieceFormatException(String message, Throwable cause) {
    super(message, cause);
  }
}
